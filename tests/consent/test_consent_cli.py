"""``rongxin consent list|show|expire`` against a throwaway SQLite database."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from consent_factories import BANK, FIRM, FIRM_ACTOR, create_active, create_request
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from rongxin.cli import app as root_app
from rongxin.config import Settings
from rongxin.consent.evidence import evidence_key
from rongxin.consent.lifecycle import approve
from rongxin.consent.models import Authorization
from rongxin.consent.notice import load_notices
from rongxin.db.base import utcnow
from rongxin.db.models import metadata
from rongxin.db.session import build_engine

runner = CliRunner()
SECRET = "cli-test-secret-key"


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Three authorizations: one requested, one active, one that ended an hour ago."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = build_engine(Settings(database_url=url))
    metadata.create_all(engine)
    now = utcnow()
    with Session(engine) as session:
        pending = create_request(session, now=now, valid_until=now + timedelta(days=9))
        active = create_active(session, now=now, valid_until=now + timedelta(days=9))
        ended = create_request(
            session, now=now - timedelta(days=3), valid_until=now - timedelta(hours=1)
        )
        # sign the active one with the key the CLI will use (RONGXIN_SECRET_KEY)
        row = session.get(Authorization, active.id)
        assert row is not None
        resigned = create_request(session, now=now, valid_until=now + timedelta(days=9))
        notices = load_notices()
        approve(
            session,
            authorization_id=resigned.id,
            uscc=FIRM,
            actor=FIRM_ACTOR,
            risk_notice_sha256=notices.in_force(now).sha256,
            notices=notices,
            key=evidence_key(SECRET),
            now=now,
        )
        session.commit()
        ids = {"pending": pending.id, "active": resigned.id, "ended": ended.id, "other": row.id}
    engine.dispose()
    monkeypatch.setenv("RONGXIN_DATABASE_URL", url)
    monkeypatch.setenv("RONGXIN_SECRET_KEY", SECRET)
    return ids


def _json(output: str) -> Any:
    return json.loads(output.strip().splitlines()[0])


def test_list_filters_and_counts_expiry_at_once(cli_db: dict[str, str]) -> None:
    out = runner.invoke(root_app, ["consent", "list", "--json"])
    assert out.exit_code == 0, out.output
    page = _json(out.stdout)
    assert page["total"] == 4
    status = {a["id"]: a["status"] for a in page["items"]}
    assert status[cli_db["ended"]] == "expired"  # before `expire` ran
    assert status[cli_db["pending"]] == "requested"
    expired = _json(
        runner.invoke(root_app, ["consent", "list", "--status", "expired", "--json"]).stdout
    )
    assert [a["id"] for a in expired["items"]] == [cli_db["ended"]]
    table = runner.invoke(root_app, ["consent", "list", "--institution", BANK])
    assert table.exit_code == 0
    assert "authorizations — 4 of 4" in table.stdout
    none = _json(runner.invoke(root_app, ["consent", "list", "--uscc", "X" * 18, "--json"]).stdout)
    assert none["total"] == 0


def test_show_verifies_evidence(cli_db: dict[str, str]) -> None:
    out = runner.invoke(root_app, ["consent", "show", cli_db["active"]])
    assert out.exit_code == 0, out.output
    shown = _json(out.stdout)
    assert shown["status"] == "active"
    assert [e["action"] for e in shown["events"]] == ["request", "approve"]
    assert shown["evidence"]["verified"] is True
    other = _json(runner.invoke(root_app, ["consent", "show", cli_db["other"]]).stdout)
    assert other["evidence"]["verified"] is False  # signed with another key
    assert "this node's key is" in other["evidence"]["reason"]
    missing = runner.invoke(root_app, ["consent", "show", "nope"])
    assert missing.exit_code != 0


def test_expire_records_the_state_change_once(cli_db: dict[str, str]) -> None:
    first = runner.invoke(root_app, ["consent", "expire"])
    assert first.exit_code == 0, first.output
    assert _json(first.stdout)["ids"] == [cli_db["ended"]]
    again = runner.invoke(root_app, ["consent", "expire"])
    assert _json(again.stdout)["expired"] == 0
    shown = _json(runner.invoke(root_app, ["consent", "show", cli_db["ended"]]).stdout)
    assert [e["action"] for e in shown["events"]] == ["request", "expire"]
    future = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    later = runner.invoke(root_app, ["consent", "expire", "--at", future])
    assert _json(later.stdout)["expired"] == 3
