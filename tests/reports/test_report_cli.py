"""``rongxin report USCC`` and ``rongxin report usage`` against a real database file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_factories import ID_NUMBER, NAME, Seeded, seed_report_data
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from rongxin.cli import app
from rongxin.db.models import metadata
from rongxin.reports.models import ReportIssue


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, Seeded]]:
    """A SQLite file the CLI opens itself (the CLI commits; the test database stays clean)."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = create_engine(url)
    metadata.create_all(engine)
    with Session(engine) as session:
        seeded = seed_report_data(session)
        session.commit()
    monkeypatch.setenv("RONGXIN_DATABASE_URL", url)
    monkeypatch.setenv("RONGXIN_NODE_ID", "cli-node")
    yield engine, seeded
    engine.dispose()


def _issues(engine: Engine) -> list[ReportIssue]:
    with Session(engine) as session:
        return list(session.scalars(select(ReportIssue)))


def test_report_json_to_stdout(cli_db: tuple[Engine, Seeded]) -> None:
    engine, seeded = cli_db
    result = CliRunner().invoke(app, ["report", seeded.uscc])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["subject"]["name"] == NAME
    assert body["node_id"] == "cli-node"
    assert ID_NUMBER not in result.stdout
    (issue,) = _issues(engine)
    assert (issue.requester_kind, issue.requester_code, issue.purpose, issue.format) == (
        "operator",
        "cli",
        "public_inquiry",
        "json",
    )


@pytest.mark.parametrize(
    ("fmt", "locale", "magic"),
    [("html", "en", b"<!doctype html>"), ("pdf", "zh-CN", b"%PDF-")],
)
def test_report_to_file(
    cli_db: tuple[Engine, Seeded], tmp_path: Path, fmt: str, locale: str, magic: bytes
) -> None:
    engine, seeded = cli_db
    out = tmp_path / f"report.{fmt}"
    args = ["report", seeded.uscc, "--format", fmt, "--output", str(out)]
    result = CliRunner().invoke(app, [*args, "--purpose", "supervision", "--locale", locale])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(magic)
    (issue,) = _issues(engine)
    assert (issue.purpose, issue.format) == ("supervision", fmt)


def test_explicit_issue_subcommand_and_bad_locale(cli_db: tuple[Engine, Seeded]) -> None:
    _, seeded = cli_db
    ok = CliRunner().invoke(app, ["report", "issue", seeded.uscc, "--locale", "en"])
    assert ok.exit_code == 0, ok.output
    bad = CliRunner().invoke(app, ["report", seeded.uscc, "--locale", "fr"])
    assert bad.exit_code != 0


def test_usage(cli_db: tuple[Engine, Seeded]) -> None:
    _, seeded = cli_db
    runner = CliRunner()
    for _ in range(2):
        assert runner.invoke(app, ["report", seeded.uscc, "--purpose", "pre_loan"]).exit_code == 0
    result = runner.invoke(app, ["report", "usage", "--provider", "samr"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["provider_name"] == "市场监管总局"
    assert body["report_count"] == 2
    assert body["by_purpose"][0]["purpose"] == "pre_loan"
    items = {i["item_code"]: i for i in body["items"]}
    assert items["registration"]["record_count"] == 2
