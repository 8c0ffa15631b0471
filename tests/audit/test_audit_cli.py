"""``rongxin audit verify|checkpoint|list|key`` against a real database file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_factories import USCC_A, USCC_B, append_events
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from rongxin.audit import chain
from rongxin.cli import app
from rongxin.config import Settings
from rongxin.db.models import metadata


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, Settings]]:
    """A SQLite file with five entries (checkpoints at 2 and 4) that the CLI opens itself."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for name, value in {
        "RONGXIN_DATABASE_URL": url,
        "RONGXIN_SECRET_KEY": "cli-secret",
        "RONGXIN_AUDIT_CHECKPOINT_EVERY": "2",
        "RONGXIN_NODE_ID": "cli-node",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    engine = create_engine(url)
    metadata.create_all(engine)
    with Session(engine) as session:
        append_events(session, 4, settings=settings)
        append_events(session, 1, settings=settings, uscc=USCC_B, items=["court_judgment"])
        session.commit()
    yield engine, settings
    engine.dispose()


def _tamper(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql))


def test_verify_intact(cli_db: tuple[Engine, Settings]) -> None:
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact: 5 entries" in result.stdout
    assert "2 signed checkpoints" in result.stdout


@pytest.mark.parametrize(
    ("sql", "seq", "kind"),
    [
        ("UPDATE audit_entry SET actor_code = 'someone_else' WHERE seq = 3", 3, "altered"),
        ("DELETE FROM audit_entry WHERE seq = 2", 2, "deleted"),
        (
            "UPDATE audit_checkpoint SET entry_hash = '" + "0" * 64 + "' WHERE seq = 4",
            4,
            "bad_checkpoint",
        ),
    ],
)
def test_verify_names_the_first_bad_entry(
    cli_db: tuple[Engine, Settings], sql: str, seq: int, kind: str
) -> None:
    engine, _ = cli_db
    _tamper(engine, sql)
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"seq {seq}: {kind}" in result.stderr
    as_json = CliRunner().invoke(app, ["audit", "verify", "--json", "--batch-size", "2"])
    assert as_json.exit_code == 1
    problem = json.loads(as_json.stdout)["problem"]
    assert (problem["seq"], problem["kind"]) == (seq, kind)


def test_swapped_rows_fail_verification(cli_db: tuple[Engine, Settings]) -> None:
    engine, _ = cli_db
    for sql in (
        "UPDATE audit_entry SET seq = -1 WHERE seq = 1",
        "UPDATE audit_entry SET seq = 1 WHERE seq = 3",
        "UPDATE audit_entry SET seq = 3 WHERE seq = -1",
    ):
        _tamper(engine, sql)
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "seq 1: reordered" in result.stderr


def test_checkpoint_now(cli_db: tuple[Engine, Settings]) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["audit", "checkpoint"])
    assert first.exit_code == 0, first.output
    written = json.loads(first.stdout)
    assert (written["seq"], written["prev_seq"]) == (5, 4)
    again = runner.invoke(app, ["audit", "checkpoint"])
    assert again.exit_code == 0
    assert again.stdout == ""
    assert "already signed" in again.stderr
    assert "0 entries after the last checkpoint" in runner.invoke(app, ["audit", "verify"]).stdout


def test_list(cli_db: tuple[Engine, Settings]) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["audit", "list", "--uscc", USCC_A, "--limit", "3"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["seq"] for e in lines] == [4, 3, 2]
    assert all(e["uscc"] == USCC_A and e["node_id"] == "cli-node" for e in lines)
    assert "--cursor 2" in result.stderr
    court = runner.invoke(app, ["audit", "list", "--provider", "spc"])
    assert [json.loads(line)["seq"] for line in court.stdout.splitlines()] == [5]
    window = runner.invoke(app, ["audit", "list", "--since", "2026-03-02T09:00:00"])
    assert len(window.stdout.splitlines()) == 5  # naive times are read as UTC


def test_key(cli_db: tuple[Engine, Settings]) -> None:
    _, settings = cli_db
    result = CliRunner().invoke(app, ["audit", "key"])
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    expected = chain.checkpoint_key(settings)
    assert body == {
        "algorithm": "Ed25519",
        "key_id": expected.key_id,
        "public_key": expected.public_hex,
        "development_key": False,
    }
