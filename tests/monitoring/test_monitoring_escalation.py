"""Repeated violations suspend the institution; its API key is refused from then on."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from institution_factories import institution_headers
from monitoring_factories import BANK, PRIVATE_ITEM, log, read, reads
from sqlalchemy.orm import Session

from rongxin.audit.schemas import Outcome
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.db.base import utcnow
from rongxin.institutions import service as institutions_service
from rongxin.institutions.schemas import InstitutionStatus
from rongxin.monitoring import service
from rongxin.monitoring.rules import AbuseRules, RuleCode
from rongxin.monitoring.schemas import AlertStatus

MINUTE = timedelta(minutes=1)


def _denied_hours(start, hours: int) -> list:  # type: ignore[no-untyped-def]
    """Bursts of 20 refused reads in ``hours`` different hours (one refused_reads alert each)."""
    events = []
    for h in range(hours):
        events += reads(
            start + timedelta(hours=h),
            20,
            every=MINUTE,
            outcome=Outcome.denied,
            items=[PRIVATE_ITEM],
        )
    return events


def test_repeated_violations_suspend_the_institution(
    client: TestClient,
    session: Session,
    settings: Settings,
    rules: AbuseRules,
    catalog: Catalog,
) -> None:
    headers = institution_headers(session, BANK)  # onboarded and active
    assert client.get(f"/api/v1/institutions/{BANK}", headers=headers).status_code == 200
    now = utcnow()
    start = (now - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    log(session, settings, _denied_hours(start, 2))
    first = service.scan(session, settings=settings, now=now, rules=rules, catalog=catalog)
    assert len(first.alerts_created) == 2
    assert first.suspended == []  # two high alerts: not yet
    log(session, settings, _denied_hours(start + timedelta(hours=5), 1))
    second = service.scan(session, settings=settings, now=now, rules=rules, catalog=catalog)
    assert second.suspended == [BANK]
    [escalation] = service.list_alerts(session, rule=RuleCode.escalation).items
    assert escalation.id in second.alerts_created
    assert escalation.action_taken == "suspended"
    refused = service.list_alerts(session, rule=RuleCode.refused_reads).items
    assert sorted(escalation.related_alert_ids) == sorted(a.id for a in refused)
    assert all(a.escalation_id == escalation.id for a in refused)
    assert institutions_service.institution_status(session, BANK) is InstitutionStatus.suspended
    [event] = [
        e
        for e in institutions_service.list_events(session, code=BANK)
        if e.to_status == "suspended"
    ]
    assert event.actor == "system:monitoring"
    assert all(a.id in event.reason for a in refused)  # the alert ids are the reason
    # from the next request on, the institution's key is refused
    assert client.get(f"/api/v1/institutions/{BANK}", headers=headers).status_code == 401
    # a re-scan neither escalates again nor duplicates anything
    again = service.scan(session, settings=settings, now=now, rules=rules, catalog=catalog, since=0)
    assert (again.alerts_created, again.suspended) == ([], [])
    assert service.list_alerts(session).total == 4


def test_closed_alerts_do_not_count_towards_escalation(
    session: Session, settings: Settings, rules: AbuseRules, catalog: Catalog
) -> None:
    institution_headers(session, BANK)
    now = utcnow()
    start = (now - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    log(session, settings, _denied_hours(start, 2))
    service.scan(session, settings=settings, now=now, rules=rules, catalog=catalog)
    dismissed = service.list_alerts(session).items[0]
    service.close(
        session, alert_id=dismissed.id, actor="ops", note="a misconfigured test client", at=now
    )
    log(session, settings, _denied_hours(start + timedelta(hours=5), 1))
    result = service.scan(session, settings=settings, now=now, rules=rules, catalog=catalog)
    assert result.suspended == []
    assert institutions_service.institution_status(session, BANK) is InstitutionStatus.active
    assert service.list_alerts(session, statuses=[AlertStatus.open]).total == 2


def test_alerts_far_apart_do_not_escalate(
    session: Session, settings: Settings, rules: AbuseRules, catalog: Catalog
) -> None:
    institution_headers(session, BANK)
    now = utcnow()
    start = (now - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
    events = []
    for week in range(3):  # one alert a fortnight: never 3 within 7 days
        events += _denied_hours(start + timedelta(days=14 * week), 1)
    log(session, settings, events)
    result = service.scan(session, settings=settings, now=now, rules=rules, catalog=catalog)
    assert len(result.alerts_created) == 3
    assert result.suspended == []


def test_escalation_of_an_institution_already_suspended_says_so(
    session: Session, settings: Settings, rules: AbuseRules, catalog: Catalog
) -> None:
    institution_headers(session, BANK)
    institutions_service.suspend(session, code=BANK, actor="ops", reason="manual check")
    now = utcnow()
    start = (now - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    log(session, settings, _denied_hours(start, 3))
    log(session, settings, [read(start, actor="bank-unknown", outcome=Outcome.denied)])
    result = service.scan(session, settings=settings, now=now, rules=rules, catalog=catalog)
    assert result.suspended == []
    [escalation] = service.list_alerts(session, rule=RuleCode.escalation).items
    assert escalation.action_taken == "not_active:suspended"
