"""The CLI over a real database file, in subprocesses — including kill -9 in the middle."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import run_cli
from sqlalchemy import create_engine, text

from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog
from rongxin.synth import service as synth

run = run_cli


@pytest.fixture
def db_url(tmp_path: Path, database_url: str) -> Iterator[str]:
    """A scratch database of the suite's engine: a SQLite file, or a fresh PostgreSQL database."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    name = f"rx_cli_{os.getpid()}_{int(time.time() * 1000) % 100000}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = database_url.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def count(url: str, sql: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar_one()
    engine.dispose()
    return int(value)


def test_ingest_cli_exit_codes(db_url: str, package: Path, tmp_path: Path) -> None:
    assert run(["db", "upgrade"], db_url).returncode == 0
    ok = run(
        [
            "ingest",
            "--provider",
            "spc",
            "--item",
            "court_judgment",
            "--json",
            str(package / "spc/court_judgment.csv"),
        ],
        db_url,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout.splitlines()[0])["status"] == "committed"
    bad = tmp_path / "bad.csv"
    bad.write_text("uscc,case_no\nX,1\n", encoding="utf-8")
    rejected = run(["ingest", "--provider", "spc", "--item", "court_judgment", str(bad)], db_url)
    assert rejected.returncode == 1
    assert "rejected" in rejected.stderr
    assert "nothing written" in rejected.stderr
    wrong = run(["ingest", "--provider", "samr", "--item", "court_judgment", str(bad)], db_url)
    assert wrong.returncode == 2
    assert "provided by 'spc'" in wrong.stderr


def test_kill_9_then_rerun_gives_exact_counts(
    db_url: str, tmp_path: Path, catalog: Catalog
) -> None:
    """Kill the ingest at several moments; the store stays consistent and a re-run finishes
    with exact counts and no duplicates."""
    out = tmp_path / "big"
    synth.generate(catalog, enterprises=12000, seed=5, out=out, months=12)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    stored = {i.code for i in catalog_service.load_catalog().items if i.sharing_mode == "physical"}
    expected = sum(f["rows"] for f in manifest["files"] if f["item"] in stored)
    assert run(["db", "upgrade"], db_url).returncode == 0
    args = [
        sys.executable,
        "-m",
        "rongxin.cli_main",
        "ingest",
        "--manifest",
        str(out / "manifest.json"),
        "--json",
    ]
    env = {**os.environ, "RONGXIN_DATABASE_URL": db_url}
    for delay in (1.5, 3.0, 5.0):
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        stored = count(db_url, "SELECT COUNT(*) FROM credit_record")
        committed = count(
            db_url, "SELECT COALESCE(SUM(inserted), 0) FROM ingest_batch WHERE status = 'committed'"
        )
        assert stored == committed  # every stored record belongs to a committed batch
    final = run(["ingest", "--manifest", str(out / "manifest.json"), "--json"], db_url)
    assert final.returncode == 0, final.stderr
    assert count(db_url, "SELECT COUNT(*) FROM credit_record") == expected
    dupes = count(
        db_url,
        "SELECT COUNT(*) FROM (SELECT item_code, record_key FROM credit_record "
        "GROUP BY item_code, record_key HAVING COUNT(*) > 1) d",
    )
    assert dupes == 0
    results = [json.loads(line) for line in final.stdout.splitlines()]
    assert {r["status"] for r in results} <= {"committed", "duplicate"}
    committed_inserts = count(
        db_url, "SELECT SUM(inserted) FROM ingest_batch WHERE status = 'committed'"
    )
    assert committed_inserts == expected  # each record inserted once, by exactly one batch
