"""Alerts of the abuse rules (Z3): the scan, listing, acknowledging and closing.

The scan itself lives in :mod:`rongxin.monitoring.scanning`; it is re-exported here as the
domain's entry point (``service.scan(session, settings=…, now=…)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from rongxin.kit.pagination import Page
from rongxin.monitoring.errors import AlertNotFound, AlertTransitionError
from rongxin.monitoring.models import Alert
from rongxin.monitoring.rules import SEVERITY_RANK, RuleCode, Severity
from rongxin.monitoring.scanning import cursor, scan
from rongxin.monitoring.schemas import AlertRead, AlertStatus

__all__ = [
    "acknowledge",
    "close",
    "cursor",
    "get_alert",
    "list_alerts",
    "scan",
    "status_counts",
]

_RANK = case({s.value: rank for s, rank in SEVERITY_RANK.items()}, value=Alert.severity, else_=0)


def _row(session: Session, alert_id: str, *, for_update: bool = False) -> Alert:
    stmt = select(Alert).where(Alert.id == alert_id)
    if for_update:
        stmt = stmt.with_for_update()
    alert = session.scalars(stmt).one_or_none()
    if alert is None:
        raise AlertNotFound(
            f"no alert {alert_id!r}; GET /api/v1/monitoring/alerts lists them", alert_id=alert_id
        )
    return alert


def get_alert(session: Session, *, alert_id: str) -> AlertRead:
    return AlertRead.model_validate(_row(session, alert_id))


def list_alerts(
    session: Session,
    *,
    statuses: Sequence[AlertStatus] = (),
    institution_code: str | None = None,
    rule: RuleCode | None = None,
    severity: Severity | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[AlertRead]:
    """Alerts, most severe first, then newest window first."""
    conditions: list[ColumnElement[bool]] = []
    if statuses:
        conditions.append(Alert.status.in_([s.value for s in statuses]))
    if institution_code is not None:
        conditions.append(Alert.institution_code == institution_code)
    if rule is not None:
        conditions.append(Alert.rule_code == rule.value)
    if severity is not None:
        conditions.append(Alert.severity == severity.value)
    total = session.scalar(select(func.count()).select_from(Alert).where(*conditions)) or 0
    stmt = (
        select(Alert)
        .where(*conditions)
        .order_by(_RANK.desc(), Alert.window_start.desc(), Alert.id)
        .limit(limit)
        .offset(offset)
    )
    items = [AlertRead.model_validate(a) for a in session.scalars(stmt)]
    return Page[AlertRead](items=items, total=total, limit=limit, offset=offset)


def status_counts(session: Session) -> dict[AlertStatus, int]:
    """How many alerts are open, acknowledged and closed."""
    rows = session.execute(select(Alert.status, func.count()).group_by(Alert.status)).all()
    found = {status: int(n) for status, n in rows}
    return {s: found.get(s.value, 0) for s in AlertStatus}


def _clean_note(note: str) -> str:
    note = note.strip()
    if len(note) < 2:
        raise AlertTransitionError(
            "say what was checked or done (a note of at least 2 characters)", field="note"
        )
    return note[:1000]


def acknowledge(
    session: Session, *, alert_id: str, actor: str, note: str, at: datetime
) -> AlertRead:
    """An operator has seen the alert and is looking into it (open → acknowledged)."""
    alert = _row(session, alert_id, for_update=True)
    text = _clean_note(note)
    if alert.status != AlertStatus.open.value:
        raise AlertTransitionError(
            f"alert {alert_id} is {alert.status}; only an open alert can be acknowledged",
            alert_id=alert_id,
        )
    alert.status = AlertStatus.acknowledged.value
    alert.acknowledged_by, alert.acknowledged_at = actor, at
    alert.note = text
    alert.updated_at = at
    session.flush()
    return AlertRead.model_validate(alert)


def close(session: Session, *, alert_id: str, actor: str, note: str, at: datetime) -> AlertRead:
    """The alert is handled (open or acknowledged → closed). A closed alert no longer counts
    towards escalation unless an escalation already counted it."""
    alert = _row(session, alert_id, for_update=True)
    text = _clean_note(note)
    if alert.status == AlertStatus.closed.value:
        raise AlertTransitionError(f"alert {alert_id} is already closed", alert_id=alert_id)
    alert.status = AlertStatus.closed.value
    alert.closed_by, alert.closed_at = actor, at
    alert.note = f"{alert.note}\n{text}"[-1000:] if alert.note else text
    alert.updated_at = at
    session.flush()
    return AlertRead.model_validate(alert)
