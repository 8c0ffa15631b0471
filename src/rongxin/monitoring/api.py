"""Abuse-monitoring routes under /api/v1/monitoring (Z3).

Operators and regulators read alerts; operators acknowledge and close them and may run a scan
at once (it normally runs on a schedule: ``rongxin monitoring scan``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from rongxin.access.deps import OperatorPrincipal
from rongxin.db.base import utcnow
from rongxin.deps import CatalogDep, SessionDep, SettingsDep
from rongxin.institutions import service as institutions_service
from rongxin.kit.pagination import Page
from rongxin.monitoring import service
from rongxin.monitoring.deps import AlertViewer, RulesDep
from rongxin.monitoring.rules import RuleCode, Severity
from rongxin.monitoring.schemas import AlertNote, AlertRead, AlertStatus, ScanResult

router = APIRouter(prefix="/monitoring", tags=["monitoring"])


@router.get("/alerts", response_model=Page[AlertRead])
def list_alerts(
    session: SessionDep,
    _viewer: AlertViewer,
    status: Annotated[list[AlertStatus] | None, Query(description="Repeat for several.")] = None,
    institution: Annotated[str | None, Query(max_length=64)] = None,
    rule: RuleCode | None = None,
    severity: Severity | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[AlertRead]:
    """Alerts, most severe first, then newest window first."""
    return service.list_alerts(
        session,
        statuses=status or [],
        institution_code=institution,
        rule=rule,
        severity=severity,
        limit=limit,
        offset=offset,
    )


@router.get("/alerts/{alert_id}", response_model=AlertRead)
def get_alert(alert_id: str, session: SessionDep, _viewer: AlertViewer) -> AlertRead:
    """One alert with its counts and evidence (access-log seqs)."""
    return service.get_alert(session, alert_id=alert_id)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertRead)
def acknowledge(
    alert_id: str, body: AlertNote, session: SessionDep, operator: OperatorPrincipal
) -> AlertRead:
    """The operator has seen the alert and is looking into it."""
    return service.acknowledge(
        session,
        alert_id=alert_id,
        actor=institutions_service.actor_of(operator),
        note=body.note,
        at=utcnow(),
    )


@router.post("/alerts/{alert_id}/close", response_model=AlertRead)
def close(
    alert_id: str, body: AlertNote, session: SessionDep, operator: OperatorPrincipal
) -> AlertRead:
    """The alert is handled; the note says how (closed alerts no longer count towards
    escalation)."""
    return service.close(
        session,
        alert_id=alert_id,
        actor=institutions_service.actor_of(operator),
        note=body.note,
        at=utcnow(),
    )


@router.post("/scan", response_model=ScanResult)
def scan(
    session: SessionDep,
    _operator: OperatorPrincipal,
    settings: SettingsDep,
    catalog: CatalogDep,
    rules: RulesDep,
) -> ScanResult:
    """Run the abuse rules over the access-log entries after the cursor now."""
    return service.scan(session, settings=settings, now=utcnow(), rules=rules, catalog=catalog)
