"""The server-rendered pages. They call services, never the database (STYLE.md, The web pages).

Every route here uses :class:`PageRoute`: a domain error (:class:`rongxin.errors.RongxinError`)
or an invalid query string raised while handling a page renders ``errors/error.html`` with the
error's status, instead of the JSON body the API answers with.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from rongxin.access.schemas import PURPOSE_NAMES, Principal, PrincipalKind, Purpose
from rongxin.audit import writer as audit_writer
from rongxin.catalog import service as catalog_service
from rongxin.catalog.errors import UnknownItem
from rongxin.catalog.schemas import Catalog, Category, ItemSummary, Provider
from rongxin.db.group_commit import GroupCommitWriter
from rongxin.deps import CatalogDep, GroupCommitDep, SessionDep
from rongxin.entities import search as entities_search
from rongxin.entities import service as entities_service
from rongxin.entities.errors import EntityNotFound, InvalidUscc
from rongxin.errors import Forbidden, RongxinError
from rongxin.institutions import service as institutions_service
from rongxin.kit.pagination import Page
from rongxin.providers import service as providers_service
from rongxin.providers.client import ProviderClient
from rongxin.providers.deps import ProviderClientDep
from rongxin.reports import rendering as report_rendering
from rongxin.reports import service as reports_service
from rongxin.reports.errors import PurposeNotAllowed
from rongxin.reports.schemas import CreditReport, ReportFormat
from rongxin.web import i18n
from rongxin.web.rendering import is_htmx, locale_of, no_store, relative_url, render, settings_of

if TYPE_CHECKING:
    from rongxin.web.auth import WebPrincipal  # it imports this module

SEARCH_LIMIT = 20


# ---- errors as pages ----------------------------------------------------------------------------


def error_page(
    request: Request,
    *,
    status: int,
    message: str,
    details: dict[str, Any] | None = None,
    headline: str | None = None,
    back: tuple[str, str] | None = None,
) -> Response:
    """The error page (or, for an HTMX request, just its body) with ``status``; its heading is
    ``headline``, else the locale's title for the status (``error.title_<status>``), else the
    general one."""
    template = "errors/_error.html" if is_htmx(request) else "errors/error.html"
    if headline is None:
        locale = locale_of(request)
        key = f"error.title_{status}"
        known = key in i18n.messages(locale)
        headline = i18n.translate(locale, key if known else "error.title_other")
    return render(
        request,
        template,
        {
            "status": status,
            "message": message,
            "headline": headline,
            "back": back,
            "details": {k: v for k, v in (details or {}).items() if v not in (None, "")},
        },
        status_code=status,
    )


def page_not_found(request: Request) -> Response:
    """The HTML 404 for a URL no route matches (the API keeps its JSON 404)."""
    locale = i18n.negotiate(request).locale
    return error_page(
        request,
        status=404,
        message=i18n.translate(locale, "error.page_not_found", path=request.url.path),
        back=("/", i18n.translate(locale, "error.home")),
    )


class PageRoute(APIRoute):
    """An APIRoute whose domain and validation errors render as HTML error pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RongxinError as exc:
                return error_page(
                    request, status=exc.status, message=exc.message, details=exc.details
                )
            except RequestValidationError as exc:
                problems = {
                    ".".join(str(p) for p in err["loc"] if p != "query"): err["msg"]
                    for err in exc.errors()
                }
                return error_page(
                    request,
                    status=422,
                    message="; ".join(f"{k}: {v}" for k, v in problems.items()),
                )

        return page_handler


web_router = APIRouter(include_in_schema=False, route_class=PageRoute)


# ---- home ---------------------------------------------------------------------------------------


@web_router.get("/", name="home")
def home(request: Request, catalog: CatalogDep) -> Response:
    items = catalog_service.list_items(catalog)
    return render(
        request,
        "home/index.html",
        {
            "item_count": items.total,
            "provider_count": len(catalog.providers),
            "category_count": len(catalog.categories),
            "q": "",
        },
    )


# ---- catalog ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategoryGroup:
    category: Category
    items: list[ItemSummary]


@web_router.get("/catalog", name="catalog")
def catalog_index(request: Request, catalog: CatalogDep) -> Response:
    listing = catalog_service.list_items(catalog)
    groups = [
        CategoryGroup(c, [i for i in listing.items if i.category == c.code])
        for c in catalog.categories
    ]
    providers: dict[str, Provider] = {p.code: p for p in catalog.providers}
    return render(
        request,
        "catalog/index.html",
        {
            "catalog": catalog,
            "groups": [g for g in groups if g.items],
            "providers": providers,
            "total": listing.total,
        },
    )


@web_router.get("/catalog/{code}", name="catalog_item")
def catalog_item(request: Request, code: str, catalog: CatalogDep) -> Response:
    try:
        item = catalog_service.get_item(catalog, code)
    except UnknownItem as exc:
        locale = i18n.negotiate(request, default=settings_of(request).default_locale).locale
        return error_page(
            request,
            status=exc.status,
            message=i18n.translate(locale, "error.item_not_found", code=code),
            back=("/catalog", "catalog.back"),
        )
    return render(
        request,
        "catalog/item.html",
        {
            "item": item,
            "category": catalog.category(item.category),
            "provider": catalog.provider(item.provider),
        },
    )


# ---- market entities ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pager:
    """Limit/offset pagination links for a result page."""

    total: int
    limit: int
    offset: int
    prev_url: str | None
    next_url: str | None

    @property
    def start(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def end(self) -> int:
        return min(self.offset + self.limit, self.total)

    @classmethod
    def build(cls, request: Request, *, total: int, limit: int, offset: int) -> Pager:
        def link(to: int) -> str:
            url = request.url.remove_query_params("lang").include_query_params(offset=to)
            return relative_url(url)

        prev_url = link(max(offset - limit, 0)) if offset > 0 else None
        next_url = link(offset + limit) if offset + limit < total else None
        return cls(total, limit, offset, prev_url, next_url)

    @classmethod
    def of(cls, request: Request, page: Page[Any]) -> Pager:
        """The links for a service's result ``page``."""
        return cls.build(request, total=page.total, limit=page.limit, offset=page.offset)


@web_router.get("/entities", name="entities")
def entity_search(
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = SEARCH_LIMIT,
) -> Response:
    query = q.strip()
    page = (
        entities_search.search_entities(session, q=query, limit=limit, offset=offset)
        if query
        else None
    )
    pager = Pager.of(request, page) if page is not None else None
    template = "entities/_results.html" if is_htmx(request) else "entities/search.html"
    return render(
        request,
        template,
        {"q": query, "page": page, "pager": pager},
        vary=("HX-Request",),
    )


@web_router.get("/entities/{uscc}", name="entity")
def entity_detail(request: Request, uscc: str, session: SessionDep) -> Response:
    locale = i18n.negotiate(request, default=settings_of(request).default_locale).locale
    try:
        entity = entities_service.get_entity(session, uscc=uscc)
    except InvalidUscc as exc:
        code = str(exc.details.get("code", uscc))
        return error_page(
            request,
            status=exc.status,
            message=i18n.translate(locale, "error.invalid_uscc", uscc=code),
            details={"check": exc.details.get("check"), "reason": exc.message},
            back=("/entities", "entities.back"),
        )
    except EntityNotFound as exc:
        code = str(exc.details.get("uscc", uscc))
        return error_page(
            request,
            status=exc.status,
            message=i18n.translate(locale, "error.entity_not_found", uscc=code),
            back=("/entities", "entities.back"),
        )
    return render(request, "entities/detail.html", {"entity": entity})


# ---- credit report, per viewer -----------------------------------------------------------------


#: the purposes a signed-in viewer may pick on the report page, default first (Z2: institutions
#: read for financing only; the enterprise reads its own report as 本企业查询)
VIEWER_PURPOSES: Final[dict[PrincipalKind, tuple[Purpose, ...]]] = {
    PrincipalKind.institution: (Purpose.pre_loan, Purpose.in_loan, Purpose.post_loan),
    PrincipalKind.operator: (Purpose.supervision, Purpose.public_inquiry),
    PrincipalKind.regulator: (Purpose.supervision,),
}


@dataclass(frozen=True, slots=True)
class ReportViewer:
    """Who a report page is issued to, and for what purpose.

    ``principal`` is ``None`` for the public report (anonymous visitors, and signed-in parties
    that have no report purpose of their own for this entity: a provider, another enterprise).
    ``choices`` are the purposes the page offers (none: the purpose is fixed).
    """

    principal: Principal | None
    purpose: Purpose
    choices: tuple[Purpose, ...] = ()


def report_viewer(
    session: Session,
    web: WebPrincipal | None,
    *,
    uscc: str,
    asked: Purpose | None,
    locale: str = i18n.DEFAULT_LOCALE,
) -> ReportViewer:
    """The principal and purpose a report page is issued as (403 for a purpose not offered)."""
    if web is None:
        return _fixed(None, Purpose.public_inquiry, asked, locale)
    principal = _principal(web)
    if web.kind is PrincipalKind.enterprise:
        if web.code == uscc.strip().upper():
            return _fixed(principal, Purpose.self_query, asked, locale)
        return _fixed(None, Purpose.public_inquiry, asked, locale)
    offered = VIEWER_PURPOSES.get(web.kind)
    if offered is None:  # providers read their own items through deliveries, not reports
        return _fixed(None, Purpose.public_inquiry, asked, locale)
    if web.kind is PrincipalKind.institution:
        approved = institutions_service.allowed_purposes(session, web.code)
        offered = tuple(p for p in offered if p in approved) or offered
    purpose = offered[0] if asked is None else asked
    if purpose not in offered:
        raise _purpose_refused(purpose, offered, locale)
    return ReportViewer(principal, purpose, offered)


def _principal(web: WebPrincipal | None) -> Principal | None:
    return web.principal if web is not None else None


def _purpose_name(purpose: Purpose, locale: str) -> str:
    zh, en = PURPOSE_NAMES[purpose]
    return f"{en} ({purpose.value})" if locale == "en" else f"{zh}（{purpose.value}）"


def _purpose_refused(
    asked: Purpose, offered: tuple[Purpose, ...], locale: str
) -> PurposeNotAllowed:
    joiner = ", " if locale == "en" else "、"
    message = i18n.translate(
        locale,
        "console.error_purpose",
        purpose=_purpose_name(asked, locale),
        choices=joiner.join(_purpose_name(p, locale) for p in offered),
    )
    return PurposeNotAllowed(message, field="purpose", purpose=asked.value)


def _fixed(
    principal: Principal | None, purpose: Purpose, asked: Purpose | None, locale: str
) -> ReportViewer:
    if asked is not None and asked is not purpose:
        raise _purpose_refused(asked, (purpose,), locale)
    return ReportViewer(principal, purpose)


@dataclass(frozen=True, slots=True)
class ReportSources:
    """What issuing a report on a page draws on: this request's transaction, the catalog, the
    access-log writer and the provider client (one dependency, :data:`ReportSourcesDep`)."""

    session: Session
    catalog: Catalog
    writer: GroupCommitWriter
    providers: ProviderClient


def _report_sources(
    session: SessionDep,
    catalog: CatalogDep,
    writer: GroupCommitDep,
    providers: ProviderClientDep,
) -> ReportSources:
    return ReportSources(session, catalog, writer, providers)


ReportSourcesDep = Annotated[ReportSources, Depends(_report_sources)]


def viewer_report(
    request: Request,
    *,
    uscc: str,
    asked: Purpose | None,
    sources: ReportSources,
    fmt: ReportFormat,
) -> tuple[ReportViewer, CreditReport]:
    """Issue the report as the signed-in viewer (:func:`report_viewer`) in this request's
    transaction. A refusal is logged in its own committed batch (this transaction is rolled
    back by the error) and re-raised: the page shows it."""
    settings = settings_of(request)
    session = sources.session
    web: WebPrincipal | None = getattr(request.state, "web_principal", None)
    viewer: ReportViewer | None = None
    try:
        locale = i18n.negotiate(request, default=settings.default_locale).locale
        viewer = report_viewer(session, web, uscc=uscc, asked=asked, locale=locale)
        report = reports_service.issue_report(
            session,
            catalog=sources.catalog,
            uscc=uscc,
            requester=viewer.principal,
            purpose=viewer.purpose,
            settings=settings,
            format=fmt,
            interface=providers_service.interface_fetcher(
                session,
                sources.providers,
                principal=viewer.principal,
                uscc=uscc,
                purpose=viewer.purpose,
            ),
        )
    except Forbidden as exc:
        session.commit()  # release SQLite's write lock (sign-in stamps) before the writer runs
        denied = audit_writer.denial(
            viewer.principal if viewer is not None else _principal(web),
            action=f"report.{fmt.value}",
            uscc=uscc,
            purpose=viewer.purpose if viewer is not None else asked,
            reason=exc.message,
        )
        audit_writer.record_denial_sync(sources.writer, denied, settings=settings)
        raise
    return viewer, report


def report_download(request: Request, report: CreditReport, fmt: ReportFormat) -> Response:
    """The issued ``report`` as a file to save: PDF (in the page's locale) or JSON."""
    name = report_rendering.filename(report, fmt)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt is ReportFormat.pdf:
        body = report_rendering.render_pdf(report, locale_of(request))
        return Response(body, media_type="application/pdf", headers=headers)
    return Response(report.model_dump_json(), media_type="application/json", headers=headers)


def _signed_in(request: Request) -> bool:
    return getattr(request.state, "web_principal", None) is not None


PurposeQuery = Annotated[
    Purpose | None, Query(description="Why the report is issued (signed-in viewers).")
]


def _entity_report(
    request: Request, uscc: str, sources: ReportSources, purpose: Purpose | None, fmt: ReportFormat
) -> Response:
    """The entity's report as the page (HTML) or a download, issued to the viewer; a report
    issued to one signed-in viewer is never cached."""
    viewer, report = viewer_report(request, uscc=uscc, asked=purpose, sources=sources, fmt=fmt)
    response: Response
    if fmt is ReportFormat.html:
        choices = [p.value for p in viewer.choices]
        response = render(
            request, "reports/page.html", {"report": report, "purpose_choices": choices}
        )
    else:
        response = report_download(request, report, fmt)
    if viewer.principal is not None or _signed_in(request):
        no_store(response)
    return response


@web_router.get("/entities/{uscc}/report", name="entity_report")
def entity_report(
    request: Request, uscc: str, sources: ReportSourcesDep, purpose: PurposeQuery = None
) -> Response:
    return _entity_report(request, uscc, sources, purpose, ReportFormat.html)


@web_router.get("/entities/{uscc}/report.pdf", name="entity_report_pdf")
def entity_report_pdf(
    request: Request, uscc: str, sources: ReportSourcesDep, purpose: PurposeQuery = None
) -> Response:
    return _entity_report(request, uscc, sources, purpose, ReportFormat.pdf)
