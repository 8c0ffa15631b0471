"""Benchmark the credit-report API (V2): p50/p99 latency and reports/s against a real server.

Builds (or reuses) a database with N entities: ``rongxin synth`` writes the provider files,
the platform's own ingestion loads the registry and every item a public report shows, and
``rongxin rating run`` rates every entity (a report shows the latest rating). Then it
starts the server as ``rongxin serve --workers 2`` does (``uvicorn rongxin.app:server_app
--factory``, 2 workers) on 127.0.0.1 and drives ``GET /api/v1/reports/{uscc}`` for random
entities with an institution API key — every request issues and logs a report — and,
as the baseline in the same run, ``GET /healthz`` (the framework's floor: one SQL round trip).
The load comes from ``wrk`` (Debian package ``wrk``; a C client, so the load generator does not
eat the two cores the server is measured on) or, without it, from Python threads. Before the
load, the database is read once into the page cache (:func:`warm_cache`; ``--cold`` skips it).

    .venv/bin/python benchmarks/bench_reports.py --entities 1000000 \
        --database-url sqlite:///var/bench/reports.db [--seconds 20] [--connections 8]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
from bench_support import institution_token
from sqlalchemy import Engine, func, select

from rongxin.catalog import service as catalog_service
from rongxin.config import Settings
from rongxin.db import migrate
from rongxin.db.session import build_engine, session_factory, session_scope
from rongxin.entities.models import MarketEntity
from rongxin.ingest.manifest import read_manifest
from rongxin.ingest.service import ingest_file
from rongxin.records.models import CreditRecord

KEY_SEPARATOR = "\x1f"
CHUNK = 10_000


# ---- building the database -----------------------------------------------------------------------


def _cli(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "rongxin.cli_main", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def load_records(engine: Engine, synth_dir: Path) -> int:
    """Ingest the package with the platform's own ingestion: the registry (registration,
    annual reports) and every item a public report shows. Each file is one batch."""
    catalog = catalog_service.load_catalog()
    deliveries, _ = read_manifest(synth_dir / "manifest.json", catalog)
    wanted = [
        d for d in deliveries
        if d.item_code in ("registration", "annual_report") or catalog.item(d.item_code).is_public
    ]  # fmt: skip
    total = 0
    factory = session_factory(engine)
    for delivery in wanted:
        with session_scope(factory) as session:
            result = ingest_file(session, catalog=catalog, delivery=delivery, origin_node="bench")
        total += result.inserted + result.updated + result.unchanged
    return total


def prepare(url: str, n: int, work: Path) -> dict[str, Any]:
    env = {**os.environ, "RONGXIN_DATABASE_URL": url}
    engine = build_engine(Settings(database_url=url))
    migrate.upgrade(engine)
    timings: dict[str, Any] = {}
    with engine.connect() as conn:
        entities = conn.scalar(select(func.count()).select_from(MarketEntity)) or 0
        records = conn.scalar(select(func.count()).select_from(CreditRecord)) or 0
    synth_dir = work / f"synth-{n}"
    if records == 0 and not (synth_dir / "manifest.json").exists():
        start = time.perf_counter()
        _cli("synth", "--enterprises", str(n), "--seed", "7", "--out", str(synth_dir), env=env)
        timings["synth_seconds"] = round(time.perf_counter() - start, 1)
    if records == 0:
        start = time.perf_counter()
        records = load_records(engine, synth_dir)
        timings["ingest_seconds"] = round(time.perf_counter() - start, 1)
    # as in production, every entity is rated and every report shows its latest rating (a no-op
    # when the database has a completed run)
    start = time.perf_counter()
    _cli("rating", "run", "--as-of", "2026-09-30", "--if-none", env=env)
    timings["rating_seconds"] = round(time.perf_counter() - start, 1)
    with engine.connect() as conn:
        entities = conn.scalar(select(func.count()).select_from(MarketEntity)) or 0
        usccs = list(conn.scalars(select(MarketEntity.uscc)))
    with session_scope(session_factory(engine)) as session:
        token = institution_token(session, "bench_bank")
    engine.dispose()
    return {"entities": entities, "records": records, "usccs": usccs, "token": token,
            **timings}  # fmt: skip


def warm_cache(url: str) -> float:
    """Read the whole database once, so that the operating system's page cache holds it, as on
    a node that has served for a while (seconds taken). A freshly built database's pages are on
    disk: on the benchmark machine a first random read of a 16 KiB page took 242 µs, a cached
    one 6.5 µs, and the reports of a 20 s run touch pages all over the 4 GB file. SQLite: the
    file, read sequentially; PostgreSQL: ``pg_prewarm`` (contrib) in ``read`` mode on every
    table, index and TOAST table of the schema."""
    start = time.perf_counter()
    engine = build_engine(Settings(database_url=url))
    try:
        if engine.dialect.name == "sqlite":
            with open(str(engine.url.database), "rb") as db_file:
                while db_file.read(1 << 24):
                    pass
        else:
            with engine.begin() as conn:
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
                conn.exec_driver_sql(
                    "SELECT pg_prewarm(c.oid::regclass, 'read') FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i', 't')"
                )
    finally:
        engine.dispose()
    return round(time.perf_counter() - start, 1)


# ---- the server and the load ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RONGXIN_DATABASE_URL": url, "RONGXIN_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "rongxin.app:server_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the server did not start within 60 s")


def run_load(
    base: str, paths: list[str], headers: dict[str, str], concurrency: int
) -> dict[str, Any]:
    """Send every path once from ``concurrency`` clients; latency per request in ms."""
    shards = [paths[i::concurrency] for i in range(concurrency)]

    def worker(shard: list[str]) -> tuple[list[float], int]:
        latencies, errors = [], 0
        with httpx2.Client(base_url=base, headers=headers, timeout=60, trust_env=False) as client:
            for path in shard:
                start = time.perf_counter()
                response = client.get(path)
                latencies.append((time.perf_counter() - start) * 1000)
                errors += response.status_code != 200
        return latencies, errors

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(worker, shards))
    seconds = time.perf_counter() - start
    latencies = sorted(ms for lat, _ in results for ms in lat)
    return {
        "requests": len(latencies),
        "errors": sum(e for _, e in results),
        "seconds": round(seconds, 2),
        "per_second": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
    }


WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("RONGXIN_BENCH_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f %d\\n", summary.requests,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000, summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def run_wrk(
    base: str, paths: list[str], headers: dict[str, str], connections: int, seconds: int,
    work: Path,
) -> dict[str, Any]:  # fmt: skip
    """Drive the server with wrk (2 threads) for ``seconds``; latency from wrk's histogram."""
    script, path_file = work / "bench_reports.lua", work / "bench_reports.paths"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    path_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script), "--latency"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*cmd, base], capture_output=True, text=True, check=True,
        env={**os.environ, "RONGXIN_BENCH_PATHS": str(path_file)},
    ).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    requests, duration_us, p50, p99, mean, errors = line.split()[1:]
    secs = int(duration_us) / 1e6
    return {
        "requests": int(requests),
        "errors": int(errors),
        "seconds": round(secs, 2),
        "per_second": round(int(requests) / secs, 1),
        "p50_ms": float(p50),
        "p99_ms": float(p99),
        "mean_ms": float(mean),
        "client": "wrk",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("var/bench"))
    parser.add_argument("--seconds", type=int, default=20, help="wrk run length per target")
    parser.add_argument(
        "--cold", action="store_true", help="do not read the database into the page cache first"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{(args.work / f'reports-{args.entities}.db').resolve()}"

    db = prepare(url, args.entities, args.work)
    warm_seconds = None if args.cold else warm_cache(url)
    rng = random.Random(7)
    report_paths = [
        f"/api/v1/reports/{rng.choice(db['usccs'])}?purpose=pre_loan" for _ in range(args.requests)
    ]
    health_paths = ["/healthz"] * args.requests
    headers = {"Authorization": f"Bearer {db['token']}"}
    port = _free_port()
    server = start_server(url, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        run_load(base, report_paths[:200], headers, args.concurrency)  # warm-up
        run_load(base, health_paths[:200], headers, args.concurrency)
        if shutil.which("wrk"):
            reports = run_wrk(
                base, report_paths, headers, args.concurrency, args.seconds, args.work
            )
            health = run_wrk(
                base, health_paths[:1], headers, args.concurrency, args.seconds, args.work
            )
        else:
            reports = run_load(base, report_paths, headers, args.concurrency)
            health = run_load(base, health_paths, headers, args.concurrency)
    finally:
        server.terminate()
        server.wait(timeout=30)

    result = {
        "database": url.split("://")[0],
        "entities": db["entities"],
        "records": db["records"],
        **{k: v for k, v in db.items() if k.endswith("_seconds")},
        "page_cache_warmed_seconds": warm_seconds,
        "server_workers": args.workers,
        "concurrency": args.concurrency,
        "report": reports,
        "baseline_healthz": health,
        "p50_ratio_to_healthz": round(reports["p50_ms"] / health["p50_ms"], 1),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
