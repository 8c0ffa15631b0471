"""Pages of enterprise authorization (经企业授权, issue 4 item 3).

- ``/consent``: the enterprise's authorization centre — requests waiting for its decision, shown
  with the risk notice (风险提示) and approve / reject forms; active authorizations with revoke,
  pause, resume and reconfirm; the history of ended ones;
- ``/consent/requests`` (:mod:`rongxin.web.pages_consent_requests`): an institution asks an
  enterprise for authorization and follows its requests;
- ``/consent/authorizations/{id}``: one authorization with its state history, for the
  enterprise and the institution concerned, and for operators and regulators.

Every form posts the session's CSRF token (:func:`rongxin.web.auth.csrf_ok`); the approve form
also posts the sha256 of the risk notice shown on the page, so a notice published in between is
refused rather than approved unseen. Pages call the consent services, never the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from rongxin.access.schemas import PURPOSE_NAMES, PrincipalKind
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.consent import lifecycle, service
from rongxin.consent.deps import NoticesDep, TemplatesDep
from rongxin.consent.evidence import evidence_key
from rongxin.consent.notice import RiskNotices
from rongxin.consent.purposes import PurposeTemplates
from rongxin.consent.schemas import (
    ApprovalChannel,
    AuthorizationRead,
    AuthorizationStatus,
)
from rongxin.db.base import utcnow
from rongxin.deps import CatalogDep, SessionDep, SettingsDep
from rongxin.entities import service as entities_service
from rongxin.errors import RongxinError
from rongxin.web import i18n
from rongxin.web.auth import CsrfForm, WebPrincipal, csrf_ok, csrf_token, require_web_principal
from rongxin.web.pages import PageRoute, error_page
from rongxin.web.rendering import locale_of, no_store, render

LIST_LIMIT: Final = 100
ACTIONS: Final = ("approve", "reject", "revoke", "pause", "resume", "reconfirm")
DONE_MESSAGES: Final = (*ACTIONS, "requested")

consent_router = APIRouter(include_in_schema=False, route_class=PageRoute)

EnterpriseViewer = Annotated[WebPrincipal, Depends(require_web_principal(PrincipalKind.enterprise))]
AuthorizationViewer = Annotated[
    WebPrincipal,
    Depends(
        require_web_principal(
            PrincipalKind.enterprise,
            PrincipalKind.institution,
            PrincipalKind.operator,
            PrincipalKind.regulator,
        )
    ),
]


def _entity_name(session: Session, uscc: str) -> str | None:
    try:
        return entities_service.get_entity(session, uscc=uscc).name
    except RongxinError:  # not registered on this node (or not a valid code)
        return None


# ---- the risk notice as blocks ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """One block of the notice text: a heading (level 1 or 2), a paragraph or a list."""

    kind: str  # "h1", "h2", "p" or "ul"
    lines: tuple[str, ...]
    lang: str


def notice_blocks(text: str) -> list[Block]:
    """The notice's text cut into blocks (``#`` and ``##`` headings, ``-`` lists, paragraphs).

    Text after the first heading without CJK characters is English (``lang="en"``), so that
    screen readers switch voices."""
    blocks: list[Block] = []
    lang = "zh-CN"
    for chunk in text.split("\n\n"):
        lines = [line for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        first = lines[0]
        if first.startswith("# "):
            heading = first[2:].strip()
            if not any("\u4e00" <= ch <= "\u9fff" for ch in heading):
                lang = "en"
            blocks.append(Block("h1", (heading,), lang))
        elif first.startswith("## "):
            blocks.append(Block("h2", (first[3:].strip(),), lang))
        elif all(line.startswith("- ") for line in lines):
            blocks.append(Block("ul", tuple(line[2:].strip() for line in lines), lang))
        else:
            blocks.append(Block("p", (" ".join(line.strip() for line in lines),), lang))
    return blocks


# ---- shared view helpers ------------------------------------------------------------------------


def view_context(request: Request, catalog: Catalog, templates: PurposeTemplates) -> dict[str, Any]:
    locale = locale_of(request)

    def purpose_name(value: str) -> str:
        for purpose, (zh, en) in PURPOSE_NAMES.items():
            if purpose.value == value:
                return en if locale == "en" else zh
        return value

    items = {i.code: i for i in catalog.items}

    def item_name(code: str) -> str:
        item = items.get(code)
        return i18n.localized(item, "name", locale) if item else code

    return {
        "purpose_name": purpose_name,
        "item_name": item_name,
        "csrf_token": csrf_token(request),
        "template_set": templates.in_force(utcnow()),
    }


def _split(page: list[AuthorizationRead]) -> dict[str, list[AuthorizationRead]]:
    groups: dict[str, list[AuthorizationRead]] = {"pending": [], "current": [], "ended": []}
    for a in page:
        if a.status is AuthorizationStatus.requested:
            groups["pending"].append(a)
        elif a.status in (AuthorizationStatus.active, AuthorizationStatus.paused):
            groups["current"].append(a)
        else:
            groups["ended"].append(a)
    return groups


# ---- the enterprise's authorization centre ------------------------------------------------------


@consent_router.get("/consent", name="consent_centre")
def consent_centre(
    request: Request,
    principal: EnterpriseViewer,
    session: SessionDep,
    catalog: CatalogDep,
    templates: TemplatesDep,
    notices: NoticesDep,
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    now = utcnow()
    listing = service.list_authorizations(session, now=now, uscc=principal.code, limit=LIST_LIMIT)
    notice = notices.in_force(now)
    return no_store(
        render(
            request,
            "consent/centre.html",
            {
                **view_context(request, catalog, templates),
                **_split(list(listing.items)),
                "total": listing.total,
                "entity_name": _entity_name(session, principal.code),
                "notice": notice,
                "notice_blocks": notice_blocks(notice.text),
                "done": done if done in DONE_MESSAGES else "",
            },
        )
    )


def _decide(
    session: Session,
    *,
    action: str,
    authorization_id: str,
    principal: WebPrincipal,
    notice_sha256: str,
    reason: str,
    notices: RiskNotices,
    settings: Settings,
) -> None:
    common: dict[str, Any] = {
        "authorization_id": authorization_id,
        "uscc": principal.code,
        "actor": principal.principal,
        "now": utcnow(),
    }
    if action == "approve":
        lifecycle.approve(
            session,
            risk_notice_sha256=notice_sha256,
            notices=notices,
            key=evidence_key(settings.secret_key),
            channel=ApprovalChannel.web,
            **common,
        )
    elif action == "reconfirm":
        lifecycle.reconfirm(session, **common)
    else:
        operation = {
            "reject": lifecycle.reject,
            "revoke": lifecycle.revoke,
            "pause": lifecycle.pause,
            "resume": lifecycle.resume,
        }[action]
        operation(session, reason=reason, **common)


@consent_router.post("/consent/authorizations/{authorization_id}/{action}", name="consent_decide")
def consent_decide(
    request: Request,
    authorization_id: str,
    action: str,
    principal: EnterpriseViewer,
    session: SessionDep,
    settings: SettingsDep,
    notices: NoticesDep,
    csrf: CsrfForm = "",
    risk_notice_sha256: Annotated[str, Form(max_length=64)] = "",
    acknowledged: Annotated[str, Form(max_length=8)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    locale = locale_of(request)
    if action not in ACTIONS:
        return error_page(
            request, status=404, message=i18n.translate(locale, "consent.unknown_action")
        )
    if not csrf_ok(request, csrf):
        return error_page(
            request,
            status=403,
            message=i18n.translate(locale, "consent.error_csrf"),
            headline=i18n.translate(locale, "auth.error_csrf_title"),
            back=("/consent", i18n.translate(locale, "consent.back_centre")),
        )
    if action == "approve" and acknowledged != "yes":
        return error_page(
            request,
            status=422,
            message=i18n.translate(locale, "consent.error_not_acknowledged"),
            back=("/consent", i18n.translate(locale, "consent.back_centre")),
        )
    _decide(
        session,
        action=action,
        authorization_id=authorization_id,
        principal=principal,
        notice_sha256=risk_notice_sha256,
        reason=reason.strip(),
        notices=notices,
        settings=settings,
    )
    query = urlencode({"done": action})
    return RedirectResponse(f"/consent?{query}#authorization-{authorization_id}", status_code=303)


# ---- one authorization --------------------------------------------------------------------------


@consent_router.get("/consent/authorizations/{authorization_id}", name="consent_authorization")
def consent_authorization(
    request: Request,
    authorization_id: str,
    principal: AuthorizationViewer,
    session: SessionDep,
    catalog: CatalogDep,
    templates: TemplatesDep,
) -> Response:
    scope: dict[str, str] = {}
    if principal.kind is PrincipalKind.enterprise:
        scope["uscc"] = principal.code
    elif principal.kind is PrincipalKind.institution:
        scope["institution_code"] = principal.code
    detail = service.get_authorization(
        session, authorization_id=authorization_id, now=utcnow(), **scope
    )
    back = "/consent" if principal.kind is PrincipalKind.enterprise else "/consent/requests"
    return no_store(
        render(
            request,
            "consent/detail.html",
            {
                **view_context(request, catalog, templates),
                "a": detail,
                "events": detail.events,
                "entity_name": _entity_name(session, detail.uscc),
                "back_url": back if not principal.is_staff else None,
            },
        )
    )
