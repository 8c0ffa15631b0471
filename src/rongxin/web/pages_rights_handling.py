"""Handling the rights cases: the providing department's inbox ``/rights/inbox`` (objections
routed to it with their answer form, repair applications of its records with approve / reject),
the operators' deadline board ``/rights/deadlines`` (every open case, overdue first; accept /
reject, approve / reject, run the sweep now; regulators read) and an enterprise's credit
commitments ``/rights/commitments?uscc=`` (operators record a broken one, 违诺).

:func:`answer_view` is what the answer form needs (the record's current values, prefilled); the
form shows in the inbox and on the objection's case page, and posts to
``/rights/objections/{id}/answer`` (:mod:`rongxin.web.pages_rights_objections`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from rongxin.access.schemas import PrincipalKind
from rongxin.catalog.schemas import Catalog, FieldDef, Item
from rongxin.deps import CatalogDep, SessionDep, SettingsDep
from rongxin.entities import service as entities_service
from rongxin.errors import RongxinError
from rongxin.records.schemas import RecordView
from rongxin.rights import deadlines, objections, repair
from rongxin.rights import service as rights_service
from rongxin.rights.deps import CalendarDep, RulesDep
from rongxin.rights.schemas import ObjectionOutcome, ObjectionRead, ObjectionStatus, RepairStatus
from rongxin.web.auth import CsrfForm, OperatorPrincipal, StaffPrincipal, csrf_token
from rongxin.web.pages import PageRoute
from rongxin.web.pages_rights import (
    Done,
    ProviderOwner,
    act,
    done_message,
    entity_name,
    view_names,
)
from rongxin.web.rendering import locale_of, no_store, render

CORRECTED_PREFIX: Final = "c_"  # a provider's corrected values

rights_handling_router = APIRouter(include_in_schema=False, route_class=PageRoute)


# ---- the answer form ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CorrectionInput:
    """One non-key field the provider may correct, prefilled with the current value."""

    field: FieldDef
    current: str


@dataclass
class AnswerView:
    """An objection with what its answer form needs."""

    objection: ObjectionRead
    item: Item | None
    record: RecordView | None
    inputs: list[CorrectionInput] = field(default_factory=list)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def answer_view(session: Session, catalog: Catalog, objection: ObjectionRead) -> AnswerView:
    try:
        item = objections.subject_item(catalog, objection.item_code)
        record = objections.current_record(
            session, uscc=objection.uscc, item=item, record_key=objection.record_key
        )
    except RongxinError:  # the item left the catalog or the record is gone
        return AnswerView(objection, None, None)
    keyed = set(item.natural_key)
    inputs = [
        CorrectionInput(f, _shown(record.payload.get(f.name)))
        for f in item.fields
        if f.name not in keyed
    ]
    return AnswerView(objection, item, record, inputs)


def corrected_values(form: FormData, view: AnswerView) -> dict[str, object]:
    """The fields whose posted value differs from the current one."""
    changed: dict[str, object] = {}
    for entry in view.inputs:
        posted = form.get(CORRECTED_PREFIX + entry.field.name)
        if isinstance(posted, str) and posted.strip() != entry.current:
            changed[entry.field.name] = posted.strip() or None
    return changed


# ---- the provider's inbox -----------------------------------------------------------------------


@rights_handling_router.get("/rights/inbox", name="rights_inbox")
def rights_inbox(
    request: Request,
    principal: ProviderOwner,
    session: SessionDep,
    catalog: CatalogDep,
    done: Done = "",
) -> Response:
    routed = objections.list_objections(
        session,
        provider_code=principal.code,
        statuses=[ObjectionStatus.with_provider],
        oldest_first=True,
    )
    routed.sort(key=lambda o: (not o.overdue, o.due_date or o.final_due_date))
    applications = repair.list_applications(
        session, provider_code=principal.code, statuses=[RepairStatus.submitted]
    )
    applications.sort(key=lambda r: (not r.overdue, r.review_due_date))
    context: dict[str, Any] = {
        **view_names(catalog, locale_of(request)),
        "views": [answer_view(session, catalog, o) for o in routed],
        "repairs": applications,
        "outcomes": list(ObjectionOutcome),
        "csrf_token": csrf_token(request),
        "done": done_message(done),
    }
    return no_store(render(request, "rights/inbox.html", context))


# ---- the operator's deadline dashboard ----------------------------------------------------------


@rights_handling_router.get("/rights/deadlines", name="rights_deadlines")
def rights_deadlines(
    request: Request,
    principal: StaffPrincipal,
    session: SessionDep,
    catalog: CatalogDep,
    calendar: CalendarDep,
    done: Done = "",
    expired: Annotated[int | None, Query(ge=0)] = None,
    escalated_objections: Annotated[int | None, Query(ge=0)] = None,
    escalated_repairs: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    rows = deadlines.dashboard(session, calendar=calendar)
    context: dict[str, Any] = {
        **view_names(catalog, locale_of(request)),
        "rows": rows,
        "overdue": sum(1 for r in rows if r.overdue),
        "can_act": principal.kind is PrincipalKind.operator,
        "csrf_token": csrf_token(request),
        "done": done_message(done),
        "sweep": {
            "expired": expired or 0,
            "objections": escalated_objections or 0,
            "repairs": escalated_repairs or 0,
        },
        "names": entities_service.entity_names(session, (r.uscc for r in rows)),
    }
    return no_store(render(request, "rights/deadlines.html", context))


@rights_handling_router.post("/rights/sweep", name="rights_sweep")
def rights_sweep(
    request: Request,
    principal: OperatorPrincipal,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    rules: RulesDep,
    csrf: CsrfForm = "",
) -> Response:
    counts: dict[str, int] = {}

    def run() -> None:
        result = deadlines.sweep(
            session,
            catalog=catalog,
            rules=rules,
            rerate=repair.rerate_hook(catalog, settings, deadlines.SWEEP_REASON),
        )
        counts.update(
            expired=result.expired_records,
            escalated_objections=result.escalated_objections,
            escalated_repairs=result.escalated_repairs,
        )

    response = act(request, session, csrf=csrf, back="/rights/deadlines", done="sweep", run=run)
    if counts and isinstance(response, RedirectResponse):
        query = urlencode({"done": "sweep", **counts})
        return RedirectResponse(f"/rights/deadlines?{query}", status_code=303)
    return response


# ---- an enterprise's credit commitments ---------------------------------------------------------


@rights_handling_router.get("/rights/commitments", name="rights_commitments")
def rights_commitments(
    request: Request,
    principal: StaffPrincipal,
    session: SessionDep,
    uscc: Annotated[str, Query(max_length=18)] = "",
    done: Done = "",
) -> Response:
    wanted = uscc.strip().upper()
    context: dict[str, Any] = {
        "uscc": wanted,
        "name": entity_name(session, wanted) if wanted else None,
        "commitments": rights_service.commitments(session, uscc=wanted) if wanted else [],
        "can_act": principal.kind is PrincipalKind.operator,
        "csrf_token": csrf_token(request),
        "done": done_message(done),
    }
    return no_store(render(request, "rights/commitments.html", context))


@rights_handling_router.post("/rights/commitments/{commitment_id}/broken", name="rights_broken")
def rights_commitment_broken(
    request: Request,
    commitment_id: str,
    principal: OperatorPrincipal,
    session: SessionDep,
    uscc: Annotated[str, Form(max_length=18)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    csrf: CsrfForm = "",
) -> Response:
    def run() -> None:
        rights_service.break_commitment(
            session,
            commitment_id=commitment_id,
            principal=principal.principal,
            note=note.strip(),
        )

    back = "/rights/commitments?" + urlencode({"uscc": uscc.strip().upper()})
    return act(request, session, csrf=csrf, back=back, done="broken", run=run)
