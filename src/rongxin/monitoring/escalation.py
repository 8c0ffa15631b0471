"""Escalation (Z3): repeated violations suspend the institution.

When ``alerts`` alerts of at least ``min_severity`` — not closed, not yet counted by an earlier
escalation — start within ``days`` days, an ``escalation`` alert lists them and the institution
is suspended through ``rongxin.institutions.service`` (if it is active).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from rongxin.institutions import service as institutions_service
from rongxin.institutions.schemas import InstitutionStatus
from rongxin.logging import get_logger
from rongxin.monitoring.models import Alert
from rongxin.monitoring.rules import SEVERITY_RANK, AbuseRules, RuleCode, Severity
from rongxin.monitoring.schemas import AlertStatus

log = get_logger(__name__)

#: who suspends on escalation (institution_event.actor)
SYSTEM_ACTOR: Final = "system:monitoring"


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def escalate(
    session: Session, institutions: set[str], *, rules: AbuseRules, now: datetime
) -> tuple[list[Alert], list[str]]:
    """For each institution: when ``alerts`` not-yet-escalated, not-closed alerts of at least
    ``min_severity`` start within ``days`` days, raise an escalation alert that counts them
    and suspend the institution (if it is active)."""
    rule = rules.escalation
    if not rule.enabled or not institutions:
        return [], []
    least = SEVERITY_RANK[rule.min_severity]
    severe = [s.value for s in Severity if SEVERITY_RANK[s] >= least]
    pending = session.scalars(
        select(Alert)
        .where(
            Alert.institution_code.in_(sorted(institutions)),
            Alert.rule_code != RuleCode.escalation.value,
            Alert.severity.in_(severe),
            Alert.status != AlertStatus.closed.value,
            Alert.escalation_id.is_(None),
        )
        .order_by(Alert.institution_code, Alert.window_start, Alert.id)
    ).all()
    grouped: dict[str, list[Alert]] = defaultdict(list)
    for alert in pending:
        grouped[alert.institution_code].append(alert)
    raised: list[Alert] = []
    suspended: list[str] = []
    span = timedelta(days=rule.days)
    for code, alerts in grouped.items():
        counted = _first_run(alerts, rule.alerts, span)
        if counted is None:
            continue
        action = _suspend(session, code, counted, rules=rules, now=now)
        if action == "suspended":
            suspended.append(code)
        escalation = Alert(
            id=uuid.uuid4().hex,
            rule_code=RuleCode.escalation.value,
            rule_version=rules.version,
            institution_code=code,
            severity=rule.severity.value,
            window_start=_utc(counted[0].window_start),
            window_end=max(_utc(a.window_end) for a in counted),
            observed=len(counted),
            threshold=float(rule.alerts),
            baseline=None,
            counts={"alerts": len(counted), "days": rule.days},
            first_seq=min(a.first_seq for a in counted),
            last_seq=max(a.last_seq for a in counted),
            sample_seqs=[],
            related_alert_ids=[a.id for a in counted],
            action_taken=action,
            status=AlertStatus.open.value,
            created_at=now,
            updated_at=now,
            note="",
        )
        session.add(escalation)
        for a in counted:
            a.escalation_id = escalation.id
        raised.append(escalation)
        log.warning("monitoring_escalation", institution=code, alerts=len(counted), action=action)
    session.flush()
    return raised, suspended


def _first_run(alerts: list[Alert], count: int, span: timedelta) -> list[Alert] | None:
    """The alerts of the first ``span`` (from an alert's window start) holding ``count``."""
    for i in range(len(alerts) - count + 1):
        start = _utc(alerts[i].window_start)
        if _utc(alerts[i + count - 1].window_start) - start < span:
            return [a for a in alerts[i:] if _utc(a.window_start) - start < span]
    return None


def _suspend(
    session: Session, code: str, counted: list[Alert], *, rules: AbuseRules, now: datetime
) -> str:
    status = institutions_service.institution_status(session, code)
    if status is None:
        return "unknown_institution"
    if status is not InstitutionStatus.active:
        return f"not_active:{status.value}"
    ids = ", ".join(a.id for a in counted)
    reason = (
        f"abuse rules {rules.version}: {len(counted)} alerts of severity >= "
        f"{rules.escalation.min_severity.value} within {rules.escalation.days} days: {ids}"
    )
    if len(reason) > 1000:
        reason = reason[:997] + "..."
    institutions_service.suspend(session, code=code, actor=SYSTEM_ACTOR, reason=reason, at=now)
    return "suspended"
