"""Benchmark the credit-report API (V2): p50/p99 latency and reports/s against a real server.

Builds (or reuses) a database with N entities: ``rongxin synth`` writes the provider files,
``rongxin entities import`` loads the registry, and — when ``credit_record`` is empty — this
script bulk-inserts every synth file's rows as current records (SQLAlchemy Core executemany in
one transaction; the platform's ingest does the real thing). Then it starts ``uvicorn`` (2
workers) on 127.0.0.1 and sends ``--requests`` ``GET /api/v1/reports/{uscc}?purpose=pre_loan``
from ``--concurrency`` clients (random entities, an institution API key; every request issues
and logs a report). Baseline in the same run: as many ``GET /healthz`` (the framework's floor).

    .venv/bin/python benchmarks/bench_reports.py --entities 20000 \
        [--database-url sqlite:///var/bench/reports.db] [--requests 5000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx2
import polars as pl
from sqlalchemy import Engine, func, insert, select

from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind
from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import FieldType, Item
from rongxin.config import Settings
from rongxin.db import migrate
from rongxin.db.models import metadata
from rongxin.db.session import build_engine, session_factory, session_scope
from rongxin.entities.models import MarketEntity
from rongxin.records.models import CreditRecord

KEY_SEPARATOR = "\x1f"
CHUNK = 10_000
BENCH_DIR = Path(__file__).resolve().parent


def app_factory() -> Any:
    """``uvicorn bench_reports:app_factory --factory`` (settings from RONGXIN_* variables)."""
    from rongxin.app import create_app

    return create_app(Settings())


# ---- building the database -----------------------------------------------------------------------


def _cli(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "rongxin.cli_main", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def _typed(item: Item, frame: pl.DataFrame) -> pl.DataFrame:
    casts = []
    for f in item.fields:
        if f.name not in frame.columns:
            continue
        if f.type is FieldType.integer:
            casts.append(pl.col(f.name).cast(pl.Int64, strict=False))
        elif f.type is FieldType.decimal:
            casts.append(pl.col(f.name).cast(pl.Float64, strict=False))
        elif f.type is FieldType.boolean:
            casts.append(pl.col(f.name).str.to_lowercase().is_in(["true", "1", "是"]))
    return frame.with_columns(casts) if casts else frame


def _event_date(value: Any) -> date | None:
    if not value:
        return None
    text = str(value)
    return date.fromisoformat(text + "-01" if len(text) == 7 else text[:10])


def _record_rows(item: Item, path: Path, received_at: datetime) -> Iterator[dict[str, Any]]:
    frame = pl.read_csv(path, infer_schema_length=0)
    frame = _typed(item, frame).unique(subset=item.natural_key, keep="last", maintain_order=True)
    for row in frame.iter_rows(named=True):
        payload = {k: v for k, v in row.items() if v is not None}
        body = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        yield {
            "item_code": item.code,
            "uscc": row["uscc"],
            "record_key": KEY_SEPARATOR.join(str(row[k]) for k in item.natural_key),
            "version": 1,
            "is_current": True,
            "payload": payload,
            "content_hash": hashlib.sha256(body.encode()).hexdigest(),
            "event_date": _event_date(row.get(item.event_date_field))
            if item.event_date_field
            else None,
            "status": "published",
            "provider_code": item.provider,
            "batch_id": None,
            "provider_record_id": None,
            "origin_node": "bench",
            "received_at": received_at,
        }


def load_records(engine: Engine, synth_dir: Path) -> int:
    """Insert every synth file's rows as current records (one transaction, executemany)."""
    catalog = catalog_service.load_catalog()
    items = {i.code: i for i in catalog.items}
    manifest = json.loads((synth_dir / "manifest.json").read_text("utf-8"))
    received_at = datetime.now(UTC)
    total = 0
    with engine.begin() as conn:
        for entry in manifest["files"]:
            item = items.get(entry.get("item", ""))
            if item is None:  # not a catalog item (e.g. loan outcomes for the rating issue)
                continue
            batch: list[dict[str, Any]] = []
            for row in _record_rows(item, synth_dir / entry["path"], received_at):
                batch.append(row)
                if len(batch) >= CHUNK:
                    conn.execute(insert(CreditRecord), batch)
                    total += len(batch)
                    batch = []
            if batch:
                conn.execute(insert(CreditRecord), batch)
                total += len(batch)
    return total


def prepare(url: str, n: int, work: Path) -> dict[str, Any]:
    env = {**os.environ, "RONGXIN_DATABASE_URL": url}
    engine = build_engine(Settings(database_url=url))
    migrate.upgrade(engine)
    metadata.create_all(engine)  # tables newer than the last migration
    timings: dict[str, Any] = {}
    with engine.connect() as conn:
        entities = conn.scalar(select(func.count()).select_from(MarketEntity)) or 0
        records = conn.scalar(select(func.count()).select_from(CreditRecord)) or 0
    synth_dir = work / f"synth-{n}"
    if (entities < n or records == 0) and not (synth_dir / "manifest.json").exists():
        start = time.perf_counter()
        _cli("synth", "--enterprises", str(n), "--seed", "7", "--out", str(synth_dir), env=env)
        timings["synth_seconds"] = round(time.perf_counter() - start, 1)
    if entities < n:
        start = time.perf_counter()
        _cli("entities", "import", "--registration", str(synth_dir / "samr/registration.csv"),
             "--annual-report", str(synth_dir / "gsxt/annual_report.csv"), env=env)  # fmt: skip
        timings["entities_import_seconds"] = round(time.perf_counter() - start, 1)
    if records == 0:
        start = time.perf_counter()
        records = load_records(engine, synth_dir)
        timings["records_load_seconds"] = round(time.perf_counter() - start, 1)
    with engine.connect() as conn:
        entities = conn.scalar(select(func.count()).select_from(MarketEntity)) or 0
        usccs = list(conn.scalars(select(MarketEntity.uscc)))
    with session_scope(session_factory(engine)) as session:
        key = access_service.create_api_key(
            session, kind=PrincipalKind.institution, code="bench_bank", label="bench_reports"
        )
    engine.dispose()
    return {"entities": entities, "records": records, "usccs": usccs, "token": key.token,
            **timings}  # fmt: skip


# ---- the server and the load ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RONGXIN_DATABASE_URL": url, "RONGXIN_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench_reports:app_factory", "--factory",
         "--app-dir", str(BENCH_DIR), "--host", "127.0.0.1", "--port", str(port),
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("var/bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{(args.work / f'reports-{args.entities}.db').resolve()}"

    db = prepare(url, args.entities, args.work)
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
        "server_workers": args.workers,
        "concurrency": args.concurrency,
        "report": reports,
        "baseline_healthz": health,
        "p50_ratio_to_healthz": round(reports["p50_ms"] / health["p50_ms"], 1),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
