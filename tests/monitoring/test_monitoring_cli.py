"""``rongxin monitoring``: scan on a schedule, list and handle alerts from the console."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from monitoring_factories import PRIVATE_ITEM, T0, reads
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from rongxin.audit import service as audit_service
from rongxin.audit.models import AuditCheckpoint, AuditEntry, AuditEntryItem, AuditHead
from rongxin.audit.schemas import Outcome
from rongxin.cli import app
from rongxin.config import Settings
from rongxin.monitoring.models import Alert, MonitoringCursor, MonitoringHourly


@pytest.fixture
def committed(engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """20 committed refused reads; the CLI (its own connection) sees them. Cleaned up after."""
    monkeypatch.setenv("RONGXIN_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RONGXIN_ENVIRONMENT", "test")
    with Session(engine) as session:
        audit_service.append(
            session,
            reads(T0, 20, every=timedelta(minutes=1), outcome=Outcome.denied, items=[PRIVATE_ITEM]),
            settings=settings,
        )
        session.commit()
    yield
    with Session(engine) as session:
        for table in (
            Alert,
            MonitoringCursor,
            MonitoringHourly,
            AuditEntryItem,
            AuditCheckpoint,
            AuditEntry,
            AuditHead,
        ):
            session.execute(delete(table))
        session.commit()


@pytest.mark.usefixtures("committed")
def test_scan_list_acknowledge_close() -> None:
    runner = CliRunner()
    scanned = runner.invoke(app, ["monitoring", "scan"])
    assert scanned.exit_code == 0, scanned.output
    result = json.loads(scanned.stdout)
    assert result["entries_scanned"] == 20
    [alert_id] = result["alerts_created"]
    again = json.loads(runner.invoke(app, ["monitoring", "scan", "--since", "0"]).stdout)
    assert (again["entries_scanned"], again["alerts_created"]) == (20, [])
    listed = runner.invoke(app, ["monitoring", "alerts", "--rule", "refused_reads"])
    assert json.loads(listed.stdout.splitlines()[0])["id"] == alert_id
    ack = runner.invoke(
        app, ["monitoring", "acknowledge", alert_id, "--actor", "li", "--note", "checking"]
    )
    assert json.loads(ack.stdout)["acknowledged_by"] == "console:li"
    closed = runner.invoke(
        app, ["monitoring", "close", alert_id, "--actor", "li", "--note", "resolved"]
    )
    assert json.loads(closed.stdout)["status"] == "closed"
    again_closed = runner.invoke(
        app, ["monitoring", "close", alert_id, "--actor", "li", "--note", "resolved"]
    )
    assert again_closed.exit_code != 0


def test_rules_command_prints_the_rules_in_force() -> None:
    shown = CliRunner().invoke(app, ["monitoring", "rules"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["escalation"]["alerts"] == 3
