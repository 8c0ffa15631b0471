"""Authentication at the edge: every protected route declares the principal it needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from rongxin.access import service, tokens
from rongxin.access.errors import Forbidden, Unauthenticated
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.config import Settings
from rongxin.deps import SessionDep, SettingsDep

_bearer = HTTPBearer(
    auto_error=False,
    description="An API key (`Authorization: Bearer rx_…`) or an access token from "
    "`POST /api/v1/oauth/token` (`Authorization: Bearer eyJ…`)",
)


#: the bearer credentials of a request, unchecked (for routes that authenticate inside their
#: own transaction through :func:`principal_from`)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_principal(
    session: SessionDep, settings: SettingsDep, credentials: BearerCredentials
) -> Principal:
    """The authenticated caller (:func:`principal_from`), as a dependency."""
    return principal_from(session, settings, credentials)


def principal_from(
    session: Session, settings: Settings, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """The caller behind an ``rx_`` API key or an OAuth2 access token, if it may still act.
    Every authenticated route comes here, through :func:`get_principal` or directly.

    A token's signature and expiry are checked without the database; then, for both kinds of
    credential, the key (an API key, or the client key behind a token) and its holder are
    looked up (``rongxin.access.service.authenticate`` / ``principal_is_active``, primary-key
    lookups), which makes revocation of the key, or suspension of its holder, effective at
    once.
    """
    if credentials is None:
        raise Unauthenticated(
            "this endpoint needs an API key or access token: `Authorization: Bearer …`"
        )
    token = credentials.credentials
    if token.startswith(service.TOKEN_PREFIX):
        return service.authenticate(session, token=token)  # checks the holder too
    principal = tokens.verify_access_token(settings=settings, token=token)
    if not service.principal_is_active(session, principal):
        raise Unauthenticated(tokens.INVALID_CREDENTIALS)
    return principal


def _require(*kinds: PrincipalKind) -> Callable[[Principal], Awaitable[Principal]]:
    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.kind not in kinds:
            allowed = " or ".join(k.value for k in kinds)
            raise Forbidden(f"this endpoint is for {allowed} credentials")
        return principal

    return dependency


def client_address(request: Request) -> str:
    """The caller's network address as the server sees it (for rate limits). Behind a reverse
    proxy run uvicorn with ``--proxy-headers --forwarded-allow-ips=<proxy>`` so that this is the
    real client, not the proxy."""
    return request.client.host if request.client else "unknown"


def request_principal(request: Request) -> Principal | None:
    """The principal a previous dependency stored on the request, if any (for logging)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
ProviderPrincipal = Annotated[Principal, Depends(_require(PrincipalKind.provider))]
InstitutionPrincipal = Annotated[
    Principal, Depends(_require(PrincipalKind.institution, PrincipalKind.operator))
]
InstitutionOnlyPrincipal = Annotated[Principal, Depends(_require(PrincipalKind.institution))]
OperatorPrincipal = Annotated[Principal, Depends(_require(PrincipalKind.operator))]
EnterprisePrincipal = Annotated[Principal, Depends(_require(PrincipalKind.enterprise))]
