"""The server-rendered pages. They call services, never the database (STYLE.md, The web pages).

Every route here uses :class:`PageRoute`: a domain error (:class:`rongxin.errors.RongxinError`)
or an invalid query string raised while handling a page renders ``errors/error.html`` with the
error's status, instead of the JSON body the API answers with.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from rongxin.catalog import service as catalog_service
from rongxin.catalog.errors import UnknownItem
from rongxin.catalog.schemas import Category, ItemSummary, Provider
from rongxin.deps import CatalogDep, SessionDep
from rongxin.entities import search as entities_search
from rongxin.entities import service as entities_service
from rongxin.entities.errors import EntityNotFound, InvalidUscc
from rongxin.errors import RongxinError
from rongxin.reports import rendering as report_rendering
from rongxin.reports import service as reports_service
from rongxin.reports.schemas import CreditReport, ReportFormat, ReportPurpose
from rongxin.web import i18n
from rongxin.web.rendering import is_htmx, relative_url, render, settings_of

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
    """The error page (or, for an HTMX request, just its body) with ``status``."""
    template = "errors/_error.html" if is_htmx(request) else "errors/error.html"
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
    pager = (
        Pager.build(request, total=page.total, limit=page.limit, offset=page.offset)
        if page is not None
        else None
    )
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


# ---- credit report (anonymous visitors: public information, purpose 公开查询) --------------------


def _public_report(
    request: Request, uscc: str, session: SessionDep, catalog: CatalogDep, fmt: ReportFormat
) -> CreditReport:
    return reports_service.issue_report(
        session,
        catalog=catalog,
        uscc=uscc,
        requester=None,
        purpose=ReportPurpose.public_inquiry,
        settings=settings_of(request),
        format=fmt,
    )


@web_router.get("/entities/{uscc}/report", name="entity_report")
def entity_report(
    request: Request, uscc: str, session: SessionDep, catalog: CatalogDep
) -> Response:
    report = _public_report(request, uscc, session, catalog, ReportFormat.html)
    return render(request, "reports/page.html", {"report": report})


@web_router.get("/entities/{uscc}/report.pdf", name="entity_report_pdf")
def entity_report_pdf(
    request: Request, uscc: str, session: SessionDep, catalog: CatalogDep
) -> Response:
    report = _public_report(request, uscc, session, catalog, ReportFormat.pdf)
    locale = i18n.negotiate(request, default=settings_of(request).default_locale).locale
    name = report_rendering.filename(report, ReportFormat.pdf)
    return Response(
        report_rendering.render_pdf(report, locale),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
