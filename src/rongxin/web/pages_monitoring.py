"""Operator pages for the abuse alerts (Z3).

- ``/monitoring/alerts``: alerts by status, severity and rule, most severe first (HTMX swaps
  the list when a filter is chosen);
- ``/monitoring/alerts/{id}``: one alert — its rule, window, counts and evidence (access-log
  entries by seq: codes only, no personal data) — with the acknowledge and close forms.

Operators and regulators see the pages; only operators act. Every form carries the session's
CSRF token (:func:`rongxin.web.auth.csrf_ok`). Pages call services, never the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from rongxin.audit import service as audit_service
from rongxin.db.base import utcnow
from rongxin.deps import SessionDep
from rongxin.errors import RongxinError
from rongxin.monitoring import service
from rongxin.monitoring.rules import RuleCode, Severity, load_rules
from rongxin.monitoring.schemas import AlertRead, AlertStatus
from rongxin.web import i18n
from rongxin.web.auth import (
    CsrfForm,
    OperatorPrincipal,
    StaffPrincipal,
    WebPrincipal,
    require_csrf,
    staff_actor,
    staff_page,
)
from rongxin.web.pages import Pager, PageRoute
from rongxin.web.rendering import locale_of, render_list, settings_of

PAGE_SIZE: Final = 20
#: severity → the colour of the existing level tags
SEVERITY_TAG: Final = {"low": "2", "medium": "3", "high": "4", "critical": "5"}

monitoring_router = APIRouter(include_in_schema=False, route_class=PageRoute)

Note = Annotated[str, Form(max_length=1000)]


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
        "pager": Pager.of(request, page),
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
    return render_list(
        request, page="monitoring/index.html", fragment="monitoring/_list.html", context=context
    )


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
    context = {
        "alert": alert,
        "related": related,
        "evidence": _evidence(session, alert),
        "rule_names": _rule_names(request),
        "severity_tag": SEVERITY_TAG,
        "notice": notice,
        "error": error,
    }
    return staff_page(
        request, "monitoring/detail.html", principal, context, status_code=status_code
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


def _alert_action(action: str) -> Callable[..., Response]:
    """The route by which an operator posts ``action`` (acknowledge, close) on one alert."""
    act = {"acknowledge": service.acknowledge, "close": service.close}[action]
    done = "acknowledged" if action == "acknowledge" else "closed"

    def post_action(
        request: Request,
        alert_id: str,
        operator: OperatorPrincipal,
        session: SessionDep,
        csrf: CsrfForm = "",
        note: Note = "",
    ) -> Response:
        require_csrf(request, csrf, "monitoring.error_csrf")
        try:
            act(session, alert_id=alert_id, actor=staff_actor(operator), note=note, at=utcnow())
        except RongxinError as exc:
            if exc.status == 404:
                raise
            return _detail(
                request, session, operator, alert_id, error=exc.message, status_code=exc.status
            )
        return RedirectResponse(f"/monitoring/alerts/{alert_id}?done={done}", status_code=303)

    return post_action


for _action in ("acknowledge", "close"):
    monitoring_router.add_api_route(
        f"/monitoring/alerts/{{alert_id}}/{_action}",
        _alert_action(_action),
        methods=["POST"],
        name=f"monitoring_{_action}",
    )
