"""Signing in to the web pages: person accounts, organisation API keys, enterprise registration.

People sign in at ``/signin/account`` with username, password and — when their account has one
(always for operators and regulators) — a TOTP code, in one form, so that a failure never says
which part was wrong (:func:`rongxin.access.users.login`; lockout after repeated failures).
Systems' staff may still sign in with their organisation's API key at ``/signin`` (paste the
``rx_…`` token, checked with :func:`rongxin.access.service.authenticate`). An enterprise's legal
representative registers at ``/register`` (real-name check against the registration record,
:mod:`rongxin.access.registration`) and is then signed in.

The signed session cookie (Starlette's ``SessionMiddleware``, signed with
``Settings.secret_key``) holds only ids — ``{"user_id" | "key_id", "kind", "code"}`` — and a
per-session CSRF token, never a password, token or personal data. Every POST carries the CSRF
token.

Every page request re-checks the account or key (:func:`load_web_principal`, a dependency of
every page router) and :func:`rongxin.access.service.principal_is_active`: a disabled account, a
revoked or expired key signs the browser out at once. :func:`require_web_principal` is the one
choke point for page authorization: anonymous visitors are redirected to ``/signin?next=…``
(only a relative ``next`` is followed), signed-in principals of another kind get a 403 page.
``/signout`` is a POST carrying the session's CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Annotated, Any, Final
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware

from rongxin.access import service as access_service
from rongxin.access import users
from rongxin.access.errors import Forbidden, LoginFailed, Unauthenticated
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.catalog.schemas import Catalog
from rongxin.config import Environment, Settings
from rongxin.deps import CatalogDep, SessionDep, SettingsDep
from rongxin.institutions import service as institutions_service
from rongxin.web import i18n
from rongxin.web.pages import PageRoute, error_page
from rongxin.web.rendering import is_htmx, locale_of, no_store, relative_url, render, settings_of

SESSION_COOKIE: Final = "rongxin_session"
SESSION_MAX_AGE: Final = int(timedelta(hours=8).total_seconds())
SESSION_KEY: Final = "signin"  # {"key_id", "kind", "code"} once signed in
CSRF_KEY: Final = "csrf"
TOKEN_MAX_LENGTH: Final = 200
STAFF: Final = (PrincipalKind.operator, PrincipalKind.regulator)


# ---- the signed-in principal --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebPrincipal:
    """Who is signed in: a person (``user_id``) of a party, or a party through one of its API
    keys (``key_id``); ``kind`` and ``code`` name the party."""

    kind: PrincipalKind
    code: str
    key_id: str | None
    name: str  # who is shown in the header, in the request's locale
    user_id: str | None = None

    @property
    def principal(self) -> Principal:
        """The access principal the services and the policy know: the party, and the person
        (user id) or key behind it."""
        return Principal(kind=self.kind, code=self.code, key_id=self.key_id, user_id=self.user_id)

    @property
    def is_staff(self) -> bool:
        return self.kind in STAFF


class SignInRequired(Exception):
    """Raised by :func:`require_web_principal` for an anonymous visitor; redirects to /signin."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def _web_session(request: Request) -> dict[str, Any]:
    """The signed cookie's contents (empty when the app runs without the middleware)."""
    if "session" not in request.scope:
        return {}
    data: dict[str, Any] = request.session
    return data


def organisation_name(kind: PrincipalKind, code: str, catalog: Catalog, locale: str) -> str:
    """A provider's catalog name; for other kinds (no registry of them yet) the code."""
    if kind is PrincipalKind.provider:
        for provider in catalog.providers:
            if provider.code == code:
                return i18n.localized(provider, "name", locale)
    return code


def _stored_principal(session: Session, stored: dict[str, Any]) -> Principal | None:
    """The principal the cookie names, if its account or key still exists and is valid."""
    try:
        if "user_id" in stored:
            return users.principal_for_user(session, user_id=str(stored["user_id"]))
        return access_service.principal_for_key(session, key_id=str(stored.get("key_id")))
    except Unauthenticated:
        return None


def remember(request: Request, principal: Principal) -> None:
    """Start a fresh session (and CSRF token) for ``principal``: ids only, never secrets."""
    cookie = _web_session(request)
    cookie.clear()
    if principal.user_id is not None:
        cookie[SESSION_KEY] = {
            "user_id": principal.user_id,
            "kind": principal.kind.value,
            "code": principal.code,
        }
    else:
        cookie[SESSION_KEY] = {
            "key_id": principal.key_id,
            "kind": principal.kind.value,
            "code": principal.code,
        }
    csrf_token(request)


def load_web_principal(
    request: Request, session: SessionDep, catalog: CatalogDep
) -> WebPrincipal | None:
    """The signed-in principal, re-checked against its account or API key on every request.

    A disabled account, a key that was revoked or has expired, a party that may no longer act
    (:func:`rongxin.access.service.principal_is_active`) or a cookie that names another
    principal than its account or key clears the session: the browser is signed out at once.
    The result is also kept on ``request.state.web_principal`` for the page header.
    """
    request.state.web_principal = None
    cookie = _web_session(request)
    stored = cookie.get(SESSION_KEY)
    if not isinstance(stored, dict):
        return None
    principal = _stored_principal(session, stored)
    if (
        principal is None
        or principal.kind.value != stored.get("kind")
        or principal.code != stored.get("code")
        or not access_service.principal_is_active(session, principal)
    ):
        cookie.clear()
        return None
    locale = i18n.negotiate(request, default=settings_of(request).default_locale).locale
    name = organisation_name(principal.kind, principal.code, catalog, locale)
    if principal.user_id is not None:
        person = users.display_name(session, user_id=principal.user_id)
        name = person if principal.kind is PrincipalKind.enterprise else f"{person} · {name}"
    found = WebPrincipal(
        kind=principal.kind,
        code=principal.code,
        key_id=principal.key_id,
        name=name,
        user_id=principal.user_id,
    )
    request.state.web_principal = found
    return found


OptionalWebPrincipal = Annotated[WebPrincipal | None, Depends(load_web_principal)]


def require_web_principal(*kinds: PrincipalKind) -> Callable[..., WebPrincipal]:
    """A dependency: the signed-in principal, which must be one of ``kinds``."""

    def dependency(request: Request, principal: OptionalWebPrincipal) -> WebPrincipal:
        if principal is None:
            raise SignInRequired(relative_url(request.url))
        if principal.kind not in kinds:
            locale = i18n.negotiate(request, default=settings_of(request).default_locale).locale
            joiner = " or " if locale == "en" else "或"
            allowed = joiner.join(i18n.translate(locale, f"auth.kind_{k.value}") for k in kinds)
            raise Forbidden(i18n.translate(locale, "auth.forbidden", kinds=allowed))
        return principal

    return dependency


StaffPrincipal = Annotated[WebPrincipal, Depends(require_web_principal(*STAFF))]
OperatorPrincipal = Annotated[WebPrincipal, Depends(require_web_principal(PrincipalKind.operator))]
DeliveryViewer = Annotated[
    WebPrincipal, Depends(require_web_principal(PrincipalKind.provider, *STAFF))
]


# ---- CSRF and redirects -------------------------------------------------------------------------


#: the session's CSRF token, as every page form posts it
CsrfForm = Annotated[str, Form(max_length=100)]


def csrf_token(request: Request) -> str:
    """This session's CSRF token (created on first use)."""
    cookie = _web_session(request)
    token = cookie.get(CSRF_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        cookie[CSRF_KEY] = token
    return token


def csrf_ok(request: Request, submitted: str) -> bool:
    expected = _web_session(request).get(CSRF_KEY)
    if not isinstance(expected, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def require_csrf(request: Request, submitted: str, message: str) -> None:
    """Refuse (403) a post whose CSRF token is not this session's; ``message`` is the key of
    the text that says so."""
    if not csrf_ok(request, submitted):
        raise Forbidden(i18n.translate(locale_of(request), message))


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site, else ``/`` (no open redirects)."""
    if not target or len(target) > 2000:
        return "/"
    if any(ord(ch) < 0x20 or ch == "\\" for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def redirect_to_signin(request: Request, next_url: str) -> Response:
    location = f"/signin?next={quote(safe_next(next_url), safe='/')}"
    if is_htmx(request):  # an HTMX swap would put the form inside the page: reload instead
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


# ---- routes -------------------------------------------------------------------------------------

auth_router = APIRouter(include_in_schema=False, route_class=PageRoute)


def _signin_form(
    request: Request, *, next_url: str, error: str | None = None, status_code: int = 200
) -> Response:
    return no_store(
        render(
            request,
            "auth/signin.html",
            {"next_url": safe_next(next_url), "error": error, "csrf_token": csrf_token(request)},
            status_code=status_code,
        )
    )


@auth_router.get("/signin", name="signin")
def signin_form(request: Request, principal: OptionalWebPrincipal, next: str = "/") -> Response:
    if principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _signin_form(request, next_url=next)


@auth_router.post("/signin", name="signin_submit")
def signin_submit(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form(max_length=TOKEN_MAX_LENGTH)] = "",
    csrf: CsrfForm = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    locale = i18n.negotiate(request, default=settings_of(request).default_locale).locale
    if not csrf_ok(request, csrf):
        return _signin_form(
            request,
            next_url=next,
            error=i18n.translate(locale, "auth.error_expired_form"),
            status_code=400,
        )
    try:
        principal = access_service.authenticate(session, token=token.strip())
    except Unauthenticated:
        return _signin_form(
            request,
            next_url=next,
            error=i18n.translate(locale, "auth.error_bad_key"),
            status_code=400,
        )
    remember(request, principal)  # a fresh session (and CSRF token) on every sign-in
    return RedirectResponse(safe_next(next), status_code=303)


# ---- person accounts ----------------------------------------------------------------------------


def _account_form(
    request: Request,
    *,
    next_url: str,
    username: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return no_store(
        render(
            request,
            "auth/account.html",
            {
                "next_url": safe_next(next_url),
                "username": username,
                "error": error,
                "csrf_token": csrf_token(request),
            },
            status_code=status_code,
        )
    )


@auth_router.get("/signin/account", name="signin_account")
def account_form(request: Request, principal: OptionalWebPrincipal, next: str = "/") -> Response:
    if principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _account_form(request, next_url=next)


@auth_router.post("/signin/account", name="signin_account_submit")
def account_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=users.PASSWORD_MAX_LENGTH)] = "",
    totp: Annotated[str, Form(max_length=20)] = "",
    csrf: CsrfForm = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """One form, one answer: a failure never says whether the name, the password or the code
    was wrong. The failure is counted (lockout) and committed: the route answers, it does not
    raise."""
    locale = locale_of(request)
    if not csrf_ok(request, csrf):
        return _account_form(
            request,
            next_url=next,
            username=username,
            error=i18n.translate(locale, "auth.error_expired_form"),
            status_code=400,
        )
    try:
        principal = users.login(
            session, settings=settings, username=username, password=password, totp=totp
        )
    except LoginFailed:
        return _account_form(
            request,
            next_url=next,
            username=username,
            error=i18n.translate(locale, "auth.error_login"),
            status_code=400,
        )
    remember(request, principal)
    return RedirectResponse(safe_next(next), status_code=303)


@auth_router.post("/signout", name="signout")
def signout(request: Request, csrf: CsrfForm = "") -> Response:
    if not csrf_ok(request, csrf):
        locale = i18n.negotiate(request, default=settings_of(request).default_locale).locale
        return error_page(
            request,
            status=403,
            message=i18n.translate(locale, "auth.error_csrf"),
            headline=i18n.translate(locale, "auth.error_csrf_title"),
        )
    _web_session(request).clear()
    return RedirectResponse("/", status_code=303)


# ---- the operators' and regulators' pages -------------------------------------------------------


def staff_actor(principal: WebPrincipal) -> str:
    """Who acted on a staff page, as the institutions service names actors (the party, and the
    person or key behind it: two people of one party are two actors for the four-eyes rule)."""
    return institutions_service.actor_of(principal.principal)


def staff_page(
    request: Request,
    template: str,
    principal: WebPrincipal,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    """A staff page for one viewer (never cached): ``context`` with the viewer, whether it may
    act (only operators act; regulators read) and the CSRF token its forms post."""
    page = {
        **context,
        "can_act": principal.kind is PrincipalKind.operator,
        "csrf_token": csrf_token(request),
        "principal": principal,
    }
    return no_store(render(request, template, page, status_code=status_code))


# ---- wiring -------------------------------------------------------------------------------------


@cache
def _process_key() -> str:
    """A random signing key for development and tests when none is configured."""
    return secrets.token_urlsafe(32)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the signed session cookie and the sign-in redirect to ``app``."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key or _process_key(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.environment is not Environment.development,
    )

    async def _signin_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)  # noqa: S101 - registered for this type only
        return redirect_to_signin(request, exc.next_url)

    app.add_exception_handler(SignInRequired, _signin_required)

    from rongxin.web.pages_registration import registration_router  # it imports this module

    app.include_router(registration_router, dependencies=[Depends(load_web_principal)])
