"""Pages about deliveries and data quality (S4, V1).

- ``/providers/{code}/batches``: a provider's delivery history, newest first;
- ``/providers/{code}/batches/{batch_id}``: one batch, its quality and (when rejected) problems;
- ``/quality``: quality per provider and item, and trend charts for one provider's items;
- ``/providers/{code}/usage``: how the provider's data is used (使用情况反馈, V1): issued
  reports per item and purpose, and the latest accesses to its items from the access log.

A provider sees only its own deliveries (another code is a 404, as if it did not exist);
operators and regulators see every provider's. Authorization goes through
:func:`rongxin.web.auth.require_web_principal` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request, Response

from rongxin.access.schemas import PrincipalKind, Purpose
from rongxin.audit import service as audit_service
from rongxin.catalog.schemas import Catalog, Item, Provider
from rongxin.deps import CatalogDep, SessionDep
from rongxin.errors import NotFound
from rongxin.ingest import history, quality
from rongxin.ingest.schemas import BatchRead, BatchStatus, QualityPoint, QualityRead, QualityRow
from rongxin.reports import service as reports_service
from rongxin.web import i18n
from rongxin.web.auth import DeliveryViewer, StaffPrincipal, WebPrincipal
from rongxin.web.pages import Pager, PageRoute
from rongxin.web.pages_history import log_names
from rongxin.web.rendering import locale_of, no_store, render

BATCH_PAGE_SIZE: Final = 20
USAGE_PAGE_SIZE: Final = 20
TREND_POINTS: Final = 60

providers_router = APIRouter(include_in_schema=False, route_class=PageRoute)


def _visible_provider(
    request: Request, catalog: Catalog, principal: WebPrincipal, code: str
) -> Provider:
    """The provider ``code`` if ``principal`` may see it; a 404 otherwise (no existence leak)."""
    provider = next((p for p in catalog.providers if p.code == code), None)
    own = principal.kind is not PrincipalKind.provider or principal.code == code
    if provider is None or not own:
        raise NotFound(i18n.translate(locale_of(request), "deliveries.not_found", code=code))
    return provider


def _items_of(catalog: Catalog) -> dict[str, Item]:
    return {item.code: item for item in catalog.items}


# ---- delivery history ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchRow:
    batch: BatchRead
    quality: QualityRead | None


@providers_router.get("/providers/{code}/batches", name="provider_batches")
def provider_batches(
    request: Request,
    code: str,
    principal: DeliveryViewer,
    session: SessionDep,
    catalog: CatalogDep,
    status: BatchStatus | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = BATCH_PAGE_SIZE,
) -> Response:
    provider = _visible_provider(request, catalog, principal, code)
    page = history.list_batches(
        session,
        provider=code,
        status=status.value if status else None,
        limit=limit,
        offset=offset,
    )
    figures = history.qualities(session, batch_ids=[b.id for b in page.items])
    rows = [BatchRow(b, figures.get(b.id)) for b in page.items]
    pager = Pager.build(request, total=page.total, limit=page.limit, offset=page.offset)
    return no_store(
        render(
            request,
            "providers/batches.html",
            {
                "provider": provider,
                "rows": rows,
                "pager": pager,
                "status": status.value if status else "",
                "statuses": [s.value for s in BatchStatus],
                "items": _items_of(catalog),
                "principal": principal,
            },
        )
    )


@providers_router.get("/providers/{code}/batches/{batch_id}", name="provider_batch")
def provider_batch(
    request: Request,
    code: str,
    batch_id: str,
    principal: DeliveryViewer,
    session: SessionDep,
    catalog: CatalogDep,
) -> Response:
    provider = _visible_provider(request, catalog, principal, code)
    try:
        batch = history.get_batch(session, batch_id=batch_id, provider=code)
    except NotFound as exc:
        raise NotFound(
            i18n.translate(locale_of(request), "deliveries.batch_not_found", batch=batch_id)
        ) from exc
    return no_store(
        render(
            request,
            "providers/batch.html",
            {"provider": provider, "batch": batch, "items": _items_of(catalog)},
        )
    )


# ---- quality ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trend:
    """One provider/item trend: a chart and the same figures as a table."""

    chart_id: str
    item: Item | None
    item_code: str
    points: list[QualityPoint]


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def _chart_data(trends: list[Trend], locale: str) -> dict[str, Any]:
    """What static/js/quality-chart.js draws (embedded as a JSON block, never executed)."""

    def title(trend: Trend) -> str:
        return i18n.localized(trend.item, "name", locale) if trend.item else trend.item_code

    return {
        "labels": {
            key: i18n.translate(locale, f"quality.{key}")
            for key in ("completeness", "validity", "timeliness", "percent_axis", "days_axis")
        },
        "charts": [
            {
                "id": trend.chart_id,
                "title": title(trend),
                "points": [
                    {
                        "batch": p.batch_id,
                        "at": i18n.cn_datetime(p.received_at, locale),
                        "completeness": _percent(p.completeness),
                        "validity": _percent(p.validity),
                        "timeliness": p.timeliness_median_days,
                    }
                    for p in trend.points
                ],
            }
            for trend in trends
        ],
    }


@providers_router.get("/quality", name="quality")
def quality_page(
    request: Request,
    principal: StaffPrincipal,
    session: SessionDep,
    catalog: CatalogDep,
    provider: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    rows: list[QualityRow] = quality.quality_report(session)
    codes = list(dict.fromkeys(r.provider_code for r in rows))
    selected = provider if provider in codes else (codes[0] if codes else "")
    if provider and provider not in codes:
        raise NotFound(i18n.translate(locale_of(request), "quality.no_provider", code=provider))
    items = _items_of(catalog)
    trends = [
        Trend(
            chart_id=f"trend-{row.item_code}",
            item=items.get(row.item_code),
            item_code=row.item_code,
            points=quality.quality_trend(
                session, provider=selected, item=row.item_code, limit=TREND_POINTS
            ),
        )
        for row in rows
        if row.provider_code == selected
    ]
    providers = {p.code: p for p in catalog.providers}
    return no_store(
        render(
            request,
            "quality/index.html",
            {
                "rows": rows,
                "codes": codes,
                "selected": selected,
                "providers": providers,
                "items": items,
                "trends": trends,
                "chart_data": _chart_data(trends, locale_of(request)),
                "principal": principal,
            },
        )
    )


# ---- usage feedback -----------------------------------------------------------------------------


@providers_router.get("/providers/{code}/usage", name="provider_usage")
def provider_usage(
    request: Request,
    code: str,
    principal: DeliveryViewer,
    session: SessionDep,
    catalog: CatalogDep,
    cursor: Annotated[int | None, Query(ge=1, description="next_cursor of the newer page")] = None,
) -> Response:
    """Reports that used the provider's items, per item and purpose, and the latest accesses
    to its items (each entry shows only the provider's own items; user ids hidden)."""
    provider = _visible_provider(request, catalog, principal, code)
    usage = reports_service.provider_usage(session, provider_code=code, catalog=catalog)
    used = {p.purpose for p in usage.by_purpose}
    page = audit_service.entries(
        session,
        provider_code=code,
        catalog=catalog,
        limit=USAGE_PAGE_SIZE,
        cursor=cursor,
        hide_user=True,
    )
    next_url = f"/providers/{code}/usage?cursor={page.next_cursor}" if page.next_cursor else None
    return no_store(
        render(
            request,
            "providers/usage.html",
            {
                **log_names(session, catalog, locale_of(request)),
                "provider": provider,
                "usage": usage,
                "purposes": [p for p in Purpose if p in used],
                "entries": page.items,
                "cursor": cursor,
                "next_url": next_url,
                "principal": principal,
            },
        )
    )
