"""Authentication at the edge: every protected route declares the principal it needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rongxin.access import service
from rongxin.access.errors import Forbidden, Unauthenticated
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.deps import SessionDep

_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer rx_…`")


def get_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthenticated("this endpoint needs an API key: `Authorization: Bearer rx_…`")
    return service.authenticate(session, token=credentials.credentials)


def _require(*kinds: PrincipalKind) -> Callable[[Principal], Awaitable[Principal]]:
    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.kind not in kinds:
            allowed = " or ".join(k.value for k in kinds)
            raise Forbidden(f"this endpoint is for {allowed} credentials")
        return principal

    return dependency


def request_principal(request: Request) -> Principal | None:
    """The principal a previous dependency stored on the request, if any (for logging)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
ProviderPrincipal = Annotated[Principal, Depends(_require(PrincipalKind.provider))]
InstitutionPrincipal = Annotated[
    Principal, Depends(_require(PrincipalKind.institution, PrincipalKind.operator))
]
OperatorPrincipal = Annotated[Principal, Depends(_require(PrincipalKind.operator))]
