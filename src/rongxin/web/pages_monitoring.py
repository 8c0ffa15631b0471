"""Operator pages for the abuse alerts (Z3).

- ``/monitoring/alerts``: alerts by status, severity and rule, most severe first (HTMX swaps
  the list when a filter is chosen);
- ``/monitoring/alerts/{id}``: one alert — its rule, window, counts and evidence (access-log
  entries by seq: codes only, no personal data) — with the acknowledge and close forms.

Operators and regulators see the pages; only operators act. Every form carries the session's
CSRF token (:func:`rongxin.web.auth.csrf_ok`). Pages call services, never the database.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.audit import service as audit_service
from rongxin.db.base import utcnow
from rongxin.deps import SessionDep
from rongxin.errors import Forbidden, RongxinError
from rongxin.institutions import service as institutions_service
from rongxin.monitoring import service
from rongxin.monitoring.rules import RuleCode, Severity, load_rules
from rongxin.monitoring.schemas import AlertRead, AlertStatus
from rongxin.web import i18n
from rongxin.web.auth import (
    StaffPrincipal,
    WebPrincipal,
    csrf_ok,
    csrf_token,
    require_web_principal,
)
from rongxin.web.pages import Pager, PageRoute
from rongxin.web.rendering import is_htmx, locale_of, no_store, render, settings_of

PAGE_SIZE: Final = 20
#: severity → the colour of the existing level tags
SEVERITY_TAG: Final = {"low": "2", "medium": "3", "high": "4", "critical": "5"}

monitoring_router = APIRouter(include_in_schema=False, route_class=PageRoute)

OperatorWeb = Annotated[WebPrincipal, Depends(require_web_principal(PrincipalKind.operator))]
Csrf = Annotated[str, Form(max_length=100)]
Note = Annotated[str, Form(max_length=1000)]


def _actor(principal: WebPrincipal) -> str:
    return institutions_service.actor_of(
        Principal(kind=principal.kind, code=principal.code, key_id=principal.key_id)
    )


def _rule_names(request: Request) -> dict[str, str]:
    rules = load_rules(settings_of(request).abuse_rules_path)
    english = locale_of(request) == "en"
    return {
        code.value: (rule.name_en or rule.name) if english else rule.name
        for code in RuleCode
        for rule in (rules.rule(code),)
    }


def _optional(value: str, choices: type[Any]) -> Any:
    """A filter value, or None when empty or not one of ``choices`` (a StrEnum)."""
    try:
        return choices(value) if value else None
    except ValueError:
        return None


@monitoring_router.get("/monitoring/alerts", name="monitoring_alerts")
def alert_list(
    request: Request,
    principal: StaffPrincipal,
    session: SessionDep,
    status: Annotated[str, Query(max_length=16)] = "",
    severity: Annotated[str, Query(max_length=16)] = "",
    rule: Annotated[str, Query(max_length=32)] = "",
    institution: Annotated[str, Query(max_length=64)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    chosen_status = _optional(status, AlertStatus)
    page = service.list_alerts(
        session,
        statuses=[chosen_status] if chosen_status else [],
        severity=_optional(severity, Severity),
        rule=_optional(rule, RuleCode),
        institution_code=institution.strip() or None,
        limit=PAGE_SIZE,
        offset=offset,
    )
    context = {
        "alerts": page.items,
        "pager": Pager.build(request, total=page.total, limit=page.limit, offset=page.offset),
        "counts": {s.value: n for s, n in service.status_counts(session).items()},
        "filters": {
            "status": chosen_status.value if chosen_status else "",
            "severity": severity if _optional(severity, Severity) else "",
            "rule": rule if _optional(rule, RuleCode) else "",
            "institution": institution.strip(),
        },
        "severities": [s.value for s in Severity],
        "rule_codes": [r.value for r in RuleCode],
        "rule_names": _rule_names(request),
        "severity_tag": SEVERITY_TAG,
        "principal": principal,
    }
    template = "monitoring/_list.html" if is_htmx(request) else "monitoring/index.html"
    return no_store(render(request, template, context, vary=("HX-Request",)))


def _evidence(session: Session, alert: AlertRead) -> list[dict[str, Any]]:
    """The sample entries: seq, time, action, outcome, items, purpose, authorization — never
    the acting person, the enterprise or the free-text detail."""
    if not alert.sample_seqs:
        return []
    frame = audit_service.entry_frame(
        session, seqs=alert.sample_seqs, actor_codes=[alert.institution_code]
    )
    columns = ["seq", "occurred_at", "action", "outcome", "items", "purpose", "authorization_id"]
    rows: list[dict[str, Any]] = frame.select(columns).to_dicts()
    for row in rows:
        row["items"] = row["items"].strip("[]").replace('"', "").replace(",", ", ")
    return rows


def _detail(
    request: Request,
    session: Session,
    principal: WebPrincipal,
    alert_id: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    alert = service.get_alert(session, alert_id=alert_id)
    related = [service.get_alert(session, alert_id=i) for i in alert.related_alert_ids]
    return no_store(
        render(
            request,
            "monitoring/detail.html",
            {
                "alert": alert,
                "related": related,
                "evidence": _evidence(session, alert),
                "rule_names": _rule_names(request),
                "severity_tag": SEVERITY_TAG,
                "can_act": principal.kind is PrincipalKind.operator,
                "csrf_token": csrf_token(request),
                "notice": notice,
                "error": error,
                "principal": principal,
            },
            status_code=status_code,
        )
    )


@monitoring_router.get("/monitoring/alerts/{alert_id}", name="monitoring_alert")
def alert_detail(
    request: Request,
    alert_id: str,
    principal: StaffPrincipal,
    session: SessionDep,
    done: Annotated[str, Query(max_length=16, pattern=r"^[a-z]*$")] = "",
) -> Response:
    notice = i18n.translate(locale_of(request), f"monitoring.done_{done}") if done else None
    return _detail(request, session, principal, alert_id, notice=notice)


def _act(
    request: Request,
    session: Session,
    operator: WebPrincipal,
    alert_id: str,
    csrf: str,
    note: str,
    action: str,
) -> Response:
    if not csrf_ok(request, csrf):
        raise Forbidden(i18n.translate(locale_of(request), "monitoring.error_csrf"))
    act = {"acknowledge": service.acknowledge, "close": service.close}[action]
    try:
        act(session, alert_id=alert_id, actor=_actor(operator), note=note, at=utcnow())
    except RongxinError as exc:
        if exc.status == 404:
            raise
        return _detail(
            request, session, operator, alert_id, error=exc.message, status_code=exc.status
        )
    done = "acknowledged" if action == "acknowledge" else "closed"
    return RedirectResponse(f"/monitoring/alerts/{alert_id}?done={done}", status_code=303)


@monitoring_router.post("/monitoring/alerts/{alert_id}/acknowledge", name="monitoring_acknowledge")
def alert_acknowledge(
    request: Request,
    alert_id: str,
    operator: OperatorWeb,
    session: SessionDep,
    csrf: Csrf = "",
    note: Note = "",
) -> Response:
    return _act(request, session, operator, alert_id, csrf, note, "acknowledge")


@monitoring_router.post("/monitoring/alerts/{alert_id}/close", name="monitoring_close")
def alert_close(
    request: Request,
    alert_id: str,
    operator: OperatorWeb,
    session: SessionDep,
    csrf: Csrf = "",
    note: Note = "",
) -> Response:
    return _act(request, session, operator, alert_id, csrf, note, "close")
