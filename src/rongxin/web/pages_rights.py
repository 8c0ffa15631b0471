"""Pages of the information subject's rights (issue 6: G3 self-query, G4 objections and credit
repair, S3 self-reported information): the enterprise's hub, and what every rights page shares.

- the enterprise: ``/rights`` (我的信用信息: its own full report as ``self_query`` with every
  record's status, PDF/JSON downloads, notices, its objections and repair applications, and per
  record 提出异议 / 申请信用修复);
- the forms that sign the credit commitment: :mod:`rongxin.web.pages_rights_forms` (shared),
  :mod:`~rongxin.web.pages_rights_objections`, :mod:`~rongxin.web.pages_rights_repairs` and
  :mod:`~rongxin.web.pages_rights_self_reports` (each with its case page and the actions on it);
- evidence files: :mod:`rongxin.web.pages_rights_evidence`;
- the providing department's inbox and the operators' deadline board:
  :mod:`rongxin.web.pages_rights_handling`.

A case page (``/rights/objections/{id}``, ``/rights/repairs/{id}``) serves the enterprise, the
case's provider and staff, each with the actions its role may take. Every form posts the
session's CSRF token; a form that signs the credit commitment echoes the version and sha256 of
the text shown. Writes run in a savepoint: an error re-renders the form (or the error page) with
nothing half-written. Pages call the rights services, never the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from rongxin.access.schemas import PrincipalKind, Purpose
from rongxin.catalog.schemas import Catalog
from rongxin.deps import SessionDep
from rongxin.entities import service as entities_service
from rongxin.errors import RongxinError
from rongxin.reports.schemas import CreditReport, ReportFormat
from rongxin.rights import objections, repair, self_reported
from rongxin.rights import service as rights_service
from rongxin.rights.deps import RulesDep
from rongxin.rights.schemas import (
    OPEN_OBJECTION,
    CaseKind,
    ObjectionRead,
    RepairRead,
    RepairStatus,
)
from rongxin.web import i18n
from rongxin.web.auth import (
    CsrfForm,
    WebPrincipal,
    csrf_ok,
    csrf_token,
    require_web_principal,
    safe_next,
)
from rongxin.web.pages import (
    PageRoute,
    ReportSources,
    ReportSourcesDep,
    error_page,
    report_download,
    viewer_report,
)
from rongxin.web.rendering import locale_of, no_store, render

DONE_MESSAGES: Final = (
    "filed",
    "applied",
    "reported",
    "withdrawn",
    "accepted",
    "rejected",
    "answered",
    "approved",
    "notices_read",
    "sweep",
    "broken",
)
TEXT_MAX: Final = 4000
KEY_SEPARATOR: Final = "\x1f"  # between the values of a record's natural key

rights_router = APIRouter(include_in_schema=False, route_class=PageRoute)

EnterpriseOwner = Annotated[WebPrincipal, Depends(require_web_principal(PrincipalKind.enterprise))]
ProviderOwner = Annotated[WebPrincipal, Depends(require_web_principal(PrincipalKind.provider))]
RepairReviewer = Annotated[
    WebPrincipal, Depends(require_web_principal(PrincipalKind.provider, PrincipalKind.operator))
]
CaseViewer = Annotated[
    WebPrincipal,
    Depends(
        require_web_principal(
            PrincipalKind.enterprise,
            PrincipalKind.provider,
            PrincipalKind.operator,
            PrincipalKind.regulator,
        )
    ),
]


async def _form_data(request: Request) -> FormData:
    """The posted form, for forms whose inputs the catalog decides (parsed once, cached)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(_form_data)]
Note = Annotated[str, Form(max_length=1000)]
Back = Annotated[str, Form(max_length=300)]
Done = Annotated[str, Query(max_length=16)]


# ---- small helpers ------------------------------------------------------------------------------


def entity_name(session: Session, uscc: str) -> str | None:
    try:
        return entities_service.get_entity(session, uscc=uscc).name
    except RongxinError:  # not registered on this node
        return None


def done_message(value: str) -> str:
    return value if value in DONE_MESSAGES else ""


def redirect_done(path: str, done: str, anchor: str = "") -> Response:
    target = safe_next(path)
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{joiner}{urlencode({'done': done})}{anchor}", 303)


def text_of(form: FormData, name: str, limit: int = TEXT_MAX) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def home_of(principal: WebPrincipal) -> str:
    if principal.kind is PrincipalKind.enterprise:
        return "/rights"
    if principal.kind is PrincipalKind.provider:
        return "/rights/inbox"
    return "/rights/deadlines"


def view_names(catalog: Catalog, locale: str) -> dict[str, Callable[..., str]]:
    """Template helpers naming items, providers and fields in ``locale``."""
    items = {i.code: i for i in catalog.items}
    providers = {p.code: p for p in catalog.providers}

    def item_name(code: str) -> str:
        item = items.get(code)
        return i18n.localized(item, "name", locale) if item else code

    def provider_name(code: str) -> str:
        provider = providers.get(code)
        return i18n.localized(provider, "name", locale) if provider else code

    def field_label(item_code: str, name: str) -> str:
        item = items.get(item_code)
        found = next((f for f in item.fields if f.name == name), None) if item else None
        return i18n.localized(found, "label", locale) if found else name

    def key_text(record_key: str) -> str:
        return record_key.replace(KEY_SEPARATOR, " / ")

    def action_name(action: str) -> str:
        key = f"rights.action_{action}"
        text = i18n.translate(locale, key)
        return action if text == key else text

    return {
        "item_name": item_name,
        "provider_name": provider_name,
        "field_label": field_label,
        "key_text": key_text,
        "action_name": action_name,
    }


# ---- a case -------------------------------------------------------------------------------------


def case_path(kind: CaseKind, case_id: str) -> str:
    """The page of one objection or repair application."""
    return f"/rights/{'objections' if kind is CaseKind.objection else 'repairs'}/{case_id}"


def case_page(
    request: Request,
    session: Session,
    catalog: Catalog,
    principal: WebPrincipal,
    case: ObjectionRead | RepairRead,
    context: dict[str, Any],
    *,
    done: str,
) -> Response:
    """One case's page (an objection, a repair application) for the enterprise, the case's
    provider or staff: ``context`` with the case's events and evidence files, the enterprise's
    name, the naming helpers, the CSRF token, the notice of what was just done and the way back
    to the viewer's rights page (template ``rights/objection.html`` or ``rights/repair.html``)."""
    kind = CaseKind.objection if isinstance(case, ObjectionRead) else CaseKind.repair
    found = rights_service.trail(session, kind=kind, case_id=case.id)
    page: dict[str, Any] = {
        **view_names(catalog, locale_of(request)),
        **context,
        "case": case,
        "case_kind": kind.value,
        "here": case_path(kind, case.id),
        "events": found.events,
        "attachments": found.attachments,
        "entity_name": entity_name(session, case.uscc),
        "csrf_token": csrf_token(request),
        "done": done_message(done),
        "back_url": home_of(principal),
    }
    return no_store(render(request, f"rights/{kind.value}.html", page))


# ---- actions on a case --------------------------------------------------------------------------


def act(
    request: Request,
    session: Session,
    *,
    csrf: str,
    back: str,
    done: str,
    run: Callable[[], object],
    anchor: str = "",
) -> Response:
    """Run one state change in a savepoint and go back to ``back``; a refusal shows the error
    page with a link back (nothing written)."""
    locale = locale_of(request)
    target = safe_next(back)
    link = (target, i18n.translate(locale, "rights.back"))
    if not csrf_ok(request, csrf):
        return error_page(
            request,
            status=403,
            message=i18n.translate(locale, "rights.error_csrf"),
            headline=i18n.translate(locale, "auth.error_csrf_title"),
            back=link,
        )
    try:
        with session.begin_nested():
            run()
    except RongxinError as exc:
        return error_page(
            request, status=exc.status, message=exc.message, details=exc.details, back=link
        )
    return redirect_done(target, done, anchor)


def back_to(value: str, default: str) -> str:
    """Where an action goes back to: the posted page (no query, no anchor), else ``default``."""
    target = safe_next(value) if value else default
    return target.split("?", 1)[0].split("#", 1)[0]


# ---- the enterprise's hub -----------------------------------------------------------------------


@rights_router.get("/rights", name="rights_hub")
def rights_hub(
    request: Request,
    principal: EnterpriseOwner,
    sources: ReportSourcesDep,
    rules: RulesDep,
    done: Done = "",
) -> Response:
    report = _own_report(request, principal, sources, ReportFormat.html)
    session, catalog = sources.session, sources.catalog
    own_objections = objections.list_objections(session, uscc=principal.code)
    own_repairs = repair.list_applications(session, uscc=principal.code)
    notices = rights_service.notices(session, uscc=principal.code)
    context: dict[str, Any] = {
        **view_names(catalog, locale_of(request)),
        "report": report,
        "objections": own_objections,
        "repairs": own_repairs,
        "open_objections": {
            (o.item_code, o.record_key): o for o in own_objections if o.status in OPEN_OBJECTION
        },
        "open_repairs": {
            (r.item_code, r.record_key): r
            for r in own_repairs
            if r.status is RepairStatus.submitted
        },
        "objectable": objections.objectable_items(catalog),
        "repairable": rules.repairable_items(),
        "objectable_statuses": [s.value for s in objections.OBJECTABLE],
        "repairable_statuses": [s.value for s in repair.REPAIRABLE],
        "notices": notices,
        "unread": sum(1 for n in notices if n.read_at is None),
        "self_items": self_reported.self_reported_items(catalog),
        "csrf_token": csrf_token(request),
        "done": done_message(done),
    }
    return no_store(render(request, "rights/index.html", context))


def _own_report(
    request: Request, principal: WebPrincipal, sources: ReportSources, fmt: ReportFormat
) -> CreditReport:
    """The enterprise's own report, issued as a self-query (本企业查询)."""
    _, report = viewer_report(
        request, uscc=principal.code, asked=Purpose.self_query, sources=sources, fmt=fmt
    )
    return report


def _self_query(
    request: Request, principal: WebPrincipal, sources: ReportSources, fmt: ReportFormat
) -> Response:
    """The enterprise's own report to save, as PDF or JSON (never cached)."""
    report = _own_report(request, principal, sources, fmt)
    return no_store(report_download(request, report, fmt))


@rights_router.get("/rights/self-query.pdf", name="rights_self_query_pdf")
def rights_self_query_pdf(
    request: Request, principal: EnterpriseOwner, sources: ReportSourcesDep
) -> Response:
    return _self_query(request, principal, sources, ReportFormat.pdf)


@rights_router.get("/rights/self-query.json", name="rights_self_query_json")
def rights_self_query_json(
    request: Request, principal: EnterpriseOwner, sources: ReportSourcesDep
) -> Response:
    return _self_query(request, principal, sources, ReportFormat.json)


@rights_router.post("/rights/notices/read", name="rights_notices_read")
def rights_notices_read(
    request: Request, principal: EnterpriseOwner, session: SessionDep, csrf: CsrfForm = ""
) -> Response:
    return act(
        request,
        session,
        csrf=csrf,
        back="/rights",
        done="notices_read",
        run=lambda: rights_service.mark_notices_read(session, uscc=principal.code),
        anchor="#notices",
    )
