"""``rongxin rating run / runs / show`` over a real database file, in subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import run_cli
from sqlalchemy import create_engine, text


def _scalar(url: str, sql: str) -> object:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar_one()
    engine.dispose()
    return value


def test_run_runs_and_show(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rating.db'}"
    package = tmp_path / "package"
    for args in (
        ["db", "upgrade"],
        ["synth", "--enterprises", "120", "--seed", "5", "--months", "1", "--out", str(package)],
        ["ingest", "--manifest", str(package / "manifest.json")],
    ):
        done = run_cli(args, url)
        assert done.returncode == 0, done.stderr

    first = run_cli(["rating", "run", "--as-of", "2026-09-30", "--json"], url)
    assert first.returncode == 0, first.stderr
    run = json.loads(first.stdout)
    entities = _scalar(url, "SELECT COUNT(*) FROM market_entity")
    assert run["entity_count"] == entities == 120
    assert sum(run["grade_counts"].values()) == 120

    again = run_cli(["rating", "run", "--as-of", "2026-09-30", "--if-none"], url)
    assert again.returncode == 0
    assert _scalar(url, "SELECT COUNT(*) FROM rating_run") == 1

    listed = run_cli(["rating", "runs"], url)
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [run["id"]]

    uscc = str(_scalar(url, "SELECT uscc FROM entity_rating ORDER BY score LIMIT 1"))
    shown = run_cli(["rating", "show", uscc], url)
    assert shown.returncode == 0, shown.stderr
    portrait = json.loads(shown.stdout)
    assert portrait["uscc"] == uscc
    assert portrait["score"] == _scalar(
        url,
        f"SELECT score FROM entity_rating WHERE uscc = '{uscc}'",  # noqa: S608 - a USCC
    )
    assert _scalar(url, "SELECT COUNT(*) FROM audit_entry WHERE action = 'rating.view'") == 1

    unknown = run_cli(["rating", "show", "91350100M000100Y43"], url)
    assert unknown.returncode == 2
    assert "no rating yet" in unknown.stderr
    bad = run_cli(["rating", "run", "--as-of", "30/09/2026"], url)
    assert bad.returncode == 2
    assert "is not a date" in bad.stderr
