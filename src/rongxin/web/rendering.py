"""Rendering pages: one Jinja environment, the shared page context, security headers.

Every page goes through :func:`render`, which picks the locale (:mod:`rongxin.web.i18n`), fills
the context that ``base.html`` needs (locale, node name, navigation, language-switch links,
static URLs) and sets the response headers: Content-Security-Policy (self-hosted assets only,
no inline scripts), ``Content-Language``, ``Vary`` and, when ``?lang=`` chose the locale, the
``rongxin_lang`` cookie.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Final

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import Response

from rongxin import __version__
from rongxin.config import NodeLevel, Settings
from rongxin.entities import reference
from rongxin.web import TEMPLATES_DIR, i18n

CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

NAV: Final = (("home", "/"), ("catalog", "/catalog"), ("entities", "/entities"))


def signed_in_nav(kind: str, code: str) -> list[tuple[str, str]]:
    """Navigation entries (message key, path) for a signed-in principal of ``kind``."""
    if kind in ("operator", "regulator"):
        return [
            ("quality.nav", "/quality"),
            ("institutions.nav", "/institutions"),
            ("monitoring.nav", "/monitoring/alerts"),
            ("rating.nav_runs", "/ratings/runs"),
            ("rights.nav_deadlines", "/rights/deadlines"),
        ]
    if kind == "provider":
        return [
            ("deliveries.nav", f"/providers/{code}/batches"),
            ("history.nav_usage", f"/providers/{code}/usage"),
            ("rights.nav_inbox", "/rights/inbox"),
        ]
    if kind == "enterprise":
        return [
            ("rights.nav", "/rights"),
            ("consent.nav_centre", "/consent"),
            ("history.nav", "/history"),
        ]
    if kind == "institution":
        return [("console.nav", "/console"), ("consent.nav_requests", "/consent/requests")]
    return []


@cache
def environment() -> Environment:
    """The one Jinja environment (built on first use, not at import)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    i18n.install(env)
    return env


def is_htmx(request: Request) -> bool:
    """An HTMX request that wants a fragment (a history restore wants the whole page)."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def locale_of(request: Request) -> str:
    """The page's locale: the ``lang`` cookie or query, else Accept-Language, else the node's."""
    return i18n.negotiate(request, default=settings_of(request).default_locale).locale


def no_store(response: Response) -> Response:
    """Mark a page for one signed-in viewer as never to be cached."""
    response.headers["Cache-Control"] = "no-store"
    return response


def node_name(settings: Settings, locale: str) -> str:
    """What the header calls this node: the national platform or a region's platform."""
    if settings.node_level is NodeLevel.national:
        return i18n.translate(locale, "node.national")
    found = reference.region(settings.node_region)
    region = found.full_name if found else settings.node_region
    return i18n.translate(locale, f"node.{settings.node_level.value}", region=region)


def relative_url(url: URL) -> str:
    """Path and query of ``url`` (links stay on whatever host and scheme served the page)."""
    return f"{url.path}?{url.query}" if url.query else url.path


def _url_helper(request: Request) -> Callable[[str], str]:
    root = request.scope.get("root_path", "").rstrip("/")

    def url(path: str) -> str:
        return f"{root}{path}"

    return url


def _static_helper(request: Request) -> Callable[[str], str]:
    root = request.scope.get("root_path", "").rstrip("/")

    def static(path: str) -> str:
        return f"{root}/static/{path}?v={__version__}"

    return static


def _entity_type_helper(locale: str) -> Callable[[str, str | None], str]:
    types = reference.entity_types()

    def entity_type_label(code: str, fallback: str | None = None) -> str:
        found = types.get(code)
        if found is None:
            return fallback or code
        label = i18n.localized(found, "name", locale)
        return label[:1].upper() + label[1:]

    return entity_type_label


def base_context(request: Request, locale: str) -> dict[str, Any]:
    settings = settings_of(request)
    path = request.url.path
    lang_urls = {
        code: relative_url(request.url.include_query_params(lang=code)) for code in i18n.LOCALES
    }
    principal = getattr(request.state, "web_principal", None)  # set by web.auth
    entries = [(f"nav.{key}", href) for key, href in NAV]
    if principal is not None:
        entries.extend(signed_in_nav(principal.kind.value, principal.code))
    nav = [
        {
            "key": label.rsplit(".", 1)[-1],
            "label": label,
            "href": href,
            "current": path == href or (href != "/" and path.startswith(href + "/")),
        }
        for label, href in entries
    ]
    session = request.scope.get("session") or {}
    return {
        "request": request,
        "locale": locale,
        "locales": i18n.LOCALES,
        "lang_urls": lang_urls,
        "node_name": node_name(settings, locale),
        "node_id": settings.node_id,
        "version": __version__,
        "nav": nav,
        "principal": principal,
        "signout_csrf": session.get("csrf", "") if principal is not None else "",
        "url": _url_helper(request),
        "static": _static_helper(request),
        "entity_type_label": _entity_type_helper(locale),
    }


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    vary: tuple[str, ...] = (),
) -> HTMLResponse:
    """Render ``template`` for ``request`` in the request's locale."""
    choice = i18n.negotiate(request, default=settings_of(request).default_locale)
    page = base_context(request, choice.locale)
    page.update(context or {})
    html = environment().get_template(template).render(page)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Content-Language"] = choice.locale
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Vary"] = ", ".join(("Accept-Language", "Cookie", *vary))
    if choice.remember:
        response.set_cookie(
            i18n.COOKIE_NAME,
            choice.locale,
            max_age=i18n.COOKIE_MAX_AGE,
            path="/",
            samesite="lax",
            httponly=True,
            secure=request.url.scheme == "https",
        )
    return response


def render_list(
    request: Request, *, page: str, fragment: str, context: Mapping[str, Any]
) -> Response:
    """A filterable list for one signed-in viewer (never cached): the whole ``page``, or only
    the list ``fragment`` when HTMX swaps it after a filter is chosen."""
    template = fragment if is_htmx(request) else page
    return no_store(render(request, template, context, vary=("HX-Request",)))
