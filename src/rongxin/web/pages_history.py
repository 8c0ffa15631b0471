"""The enterprise's access history (查询记录, issue 4 item 7): ``/history``.

Who looked at the enterprise's data — the institution (or other party), when (China time), for
what purpose, which items, under which authorization, with what outcome — read from the
tamper-evident access log (:func:`rongxin.audit.service.entries`, newest first, keyset pages on
the entry's sequence number; the acting person's user id is never shown). Next to it, the state
changes of the enterprise's authorizations (consent events), each linking to the authorization.

The helpers here (:func:`log_names`) also name actions, purposes, items and actors for the
other pages that show access-log entries (the institution console, provider usage).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from rongxin.access.schemas import PURPOSE_NAMES, PrincipalKind
from rongxin.audit import service as audit_service
from rongxin.audit.schemas import AuditEntryRead
from rongxin.catalog.schemas import Catalog
from rongxin.consent import service as consent_service
from rongxin.consent.schemas import AuthorizationEventRead, AuthorizationRead
from rongxin.db.base import utcnow
from rongxin.deps import CatalogDep, SessionDep
from rongxin.entities import service as entities_service
from rongxin.errors import RongxinError
from rongxin.institutions import service as institutions_service
from rongxin.web import i18n
from rongxin.web.auth import WebPrincipal, require_web_principal
from rongxin.web.pages import PageRoute
from rongxin.web.rendering import locale_of, no_store, render

PAGE_SIZE: Final = 20
AUTHORIZATIONS_SHOWN: Final = 10
EVENTS_SHOWN: Final = 20

history_router = APIRouter(include_in_schema=False, route_class=PageRoute)

EnterpriseOwner = Annotated[WebPrincipal, Depends(require_web_principal(PrincipalKind.enterprise))]


# ---- naming what the access log holds -----------------------------------------------------------


def action_name(action: str, locale: str) -> str:
    """``report.html`` → 网页查看信用报告; an action without a name stays as it is."""
    for key in (f"history.action_{action.replace('.', '_')}", f"history.action_{action}"):
        text = i18n.translate(locale, key)
        if text != key:
            return text
    return action


def log_names(session: Session, catalog: Catalog, locale: str) -> dict[str, Callable[..., str]]:
    """Template helpers naming items, purposes, actions and actors in ``locale``. Institution
    names are read once per code and page (institutions service)."""
    items = {i.code: i for i in catalog.items}
    providers = {p.code: p for p in catalog.providers}
    institutions: dict[str, str] = {}

    def item_name(code: str) -> str:
        item = items.get(code)
        return i18n.localized(item, "name", locale) if item else code

    def purpose_name(value: str | None) -> str:
        for purpose, (zh, en) in PURPOSE_NAMES.items():
            if purpose.value == value:
                return en if locale == "en" else zh
        return value or i18n.EMPTY

    def institution_name(code: str) -> str:
        if code not in institutions:
            try:
                institutions[code] = institutions_service.get_institution(session, code=code).name
            except RongxinError:  # not onboarded on this node: its code is all there is
                institutions[code] = code
        return institutions[code]

    def actor_name(kind: str, code: str) -> str:
        if kind == PrincipalKind.institution.value:
            return institution_name(code)
        if kind == PrincipalKind.provider.value and code in providers:
            return i18n.localized(providers[code], "name", locale)
        return i18n.translate(locale, f"history.actor_{kind}")

    return {
        "item_name": item_name,
        "purpose_name": purpose_name,
        "action_name": lambda action: action_name(action, locale),
        "institution_name": institution_name,
        "actor_name": actor_name,
    }


# ---- the enterprise's history -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateChange:
    """One state change of one of the enterprise's authorizations."""

    authorization: AuthorizationRead
    event: AuthorizationEventRead

    @property
    def at(self) -> datetime:
        return self.event.at


def _state_changes(session: Session, uscc: str) -> tuple[list[StateChange], int]:
    listing = consent_service.list_authorizations(
        session, now=utcnow(), uscc=uscc, limit=AUTHORIZATIONS_SHOWN
    )
    changes = [
        StateChange(a, e)
        for a in listing.items
        for e in consent_service.list_events(session, authorization_id=a.id)
    ]
    changes.sort(key=lambda c: c.at, reverse=True)
    return changes[:EVENTS_SHOWN], listing.total


def _entity_name(session: Session, uscc: str) -> str | None:
    try:
        return entities_service.get_entity(session, uscc=uscc).name
    except RongxinError:  # not registered on this node
        return None


@history_router.get("/history", name="access_history")
def access_history(
    request: Request,
    principal: EnterpriseOwner,
    session: SessionDep,
    catalog: CatalogDep,
    cursor: Annotated[int | None, Query(ge=1, description="next_cursor of the newer page")] = None,
) -> Response:
    page = audit_service.entries(
        session, uscc=principal.code, limit=PAGE_SIZE, cursor=cursor, hide_user=True
    )
    entries: list[AuditEntryRead] = list(page.items)
    changes, authorization_total = _state_changes(session, principal.code)
    context: dict[str, Any] = {
        **log_names(session, catalog, locale_of(request)),
        "entries": entries,
        "cursor": cursor,
        "next_url": f"/history?cursor={page.next_cursor}" if page.next_cursor else None,
        "own_code": principal.code,
        "entity_name": _entity_name(session, principal.code),
        "changes": changes,
        "authorization_total": authorization_total,
    }
    return no_store(render(request, "history/index.html", context))
