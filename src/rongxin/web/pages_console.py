"""The institution console (机构工作台, issue 4 item 8): ``/console``.

Institution staff signed in find enterprises (the entity search), open an enterprise's report
as their institution (:func:`rongxin.web.pages.report_viewer`: a financing purpose), ask the
enterprise for authorization (``/consent/requests?uscc=…`` prefills the form), follow their
institution's authorizations by status, and see today's read quota and their institution's
recent reads from the access log. ``/console/search`` answers the HTMX search with the result
table alone. Pages call services, never the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query, Request, Response

from rongxin.access.schemas import FINANCING_PURPOSES, PURPOSE_NAMES, PrincipalKind, Purpose
from rongxin.audit import service as audit_service
from rongxin.audit.schemas import AuditEntryRead
from rongxin.consent import service as consent_service
from rongxin.consent.schemas import AuthorizationRead, AuthorizationStatus
from rongxin.db.base import utcnow
from rongxin.deps import CatalogDep, SessionDep
from rongxin.entities import search as entities_search
from rongxin.entities.schemas import EntityPage
from rongxin.institutions import quota as institutions_quota
from rongxin.institutions import service as institutions_service
from rongxin.web.auth import WebPrincipal, require_web_principal
from rongxin.web.pages import Pager, PageRoute
from rongxin.web.pages_history import log_names
from rongxin.web.rendering import is_htmx, locale_of, no_store, render

SEARCH_LIMIT: Final = 10
AUTHORIZATION_LIMIT: Final = 20
RECENT_READS: Final = 20
STATUS_ORDER: Final = (
    AuthorizationStatus.active,
    AuthorizationStatus.requested,
    AuthorizationStatus.paused,
    AuthorizationStatus.expired,
    AuthorizationStatus.revoked,
    AuthorizationStatus.rejected,
)
FINANCING_ORDER: Final = tuple(p for p in PURPOSE_NAMES if p in FINANCING_PURPOSES)

console_router = APIRouter(include_in_schema=False, route_class=PageRoute)

InstitutionStaff = Annotated[
    WebPrincipal, Depends(require_web_principal(PrincipalKind.institution))
]


@dataclass(frozen=True, slots=True)
class StatusCount:
    status: str
    total: int
    selected: bool


def _search(session: SessionDep, q: str, offset: int) -> EntityPage | None:
    query = q.strip()
    if not query:
        return None
    return entities_search.search_entities(session, q=query, limit=SEARCH_LIMIT, offset=offset)


def _report_purpose(session: SessionDep, code: str) -> str:
    """The financing purpose the console's report links use: 贷前 when approved for it."""
    approved = institutions_service.allowed_purposes(session, code)
    chosen = next((p for p in FINANCING_ORDER if p in approved), Purpose.pre_loan)
    return chosen.value


@console_router.get("/console", name="console")
def console(
    request: Request,
    principal: InstitutionStaff,
    session: SessionDep,
    catalog: CatalogDep,
    q: Annotated[str, Query(max_length=100)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
    status: AuthorizationStatus | None = None,
) -> Response:
    page = _search(session, q, offset)
    pager = Pager.of(request, page) if page is not None else None
    context: dict[str, object] = {
        "q": q.strip(),
        "page": page,
        "pager": pager,
        "report_purpose": _report_purpose(session, principal.code),
    }
    if is_htmx(request):
        return no_store(render(request, "console/_results.html", context, vary=("HX-Request",)))
    now = utcnow()
    counts = []
    for s in STATUS_ORDER:
        found = consent_service.list_authorizations(
            session, now=now, institution_code=principal.code, statuses=[s], limit=1
        )
        counts.append(StatusCount(s.value, found.total, s is status))
    listing = consent_service.list_authorizations(
        session,
        now=now,
        institution_code=principal.code,
        statuses=[status] if status is not None else (),
        limit=AUTHORIZATION_LIMIT,
    )
    authorizations: list[AuthorizationRead] = list(listing.items)
    reads = audit_service.entries(
        session, actor_code=principal.code, limit=RECENT_READS, hide_user=True
    )
    recent: list[AuditEntryRead] = [
        e for e in reads.items if e.actor_kind == PrincipalKind.institution.value
    ]
    context.update(
        {
            **log_names(session, catalog, locale_of(request)),
            "institution": institutions_service.get_institution(session, code=principal.code),
            "quota": institutions_quota.quota_usage(
                session, institution_code=principal.code, at=now
            ),
            "counts": counts,
            "status": status.value if status is not None else "",
            "authorizations": authorizations,
            "authorization_total": listing.total,
            "recent": recent,
        }
    )
    return no_store(render(request, "console/index.html", context, vary=("HX-Request",)))
