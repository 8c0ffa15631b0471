"""Who may read the access log: staff see all of it; an enterprise sees the entries about its
own USCC, a provider those that touched its items; institutions are refused."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends

from rongxin.access.deps import CurrentPrincipal
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind

#: who may read the whole log and verify it
SUPERVISORS: Final = frozenset({PrincipalKind.operator, PrincipalKind.regulator})
VIEWERS: Final = SUPERVISORS | {PrincipalKind.enterprise, PrincipalKind.provider}


async def _audit_viewer(principal: CurrentPrincipal) -> Principal:
    if principal.kind not in VIEWERS:
        raise Forbidden(
            "the access log is for operator and regulator credentials, an enterprise (its own "
            "history) or a provider (use of its data)"
        )
    return principal


async def _audit_supervisor(principal: CurrentPrincipal) -> Principal:
    if principal.kind not in SUPERVISORS:
        raise Forbidden("verifying the access log is for operator or regulator credentials")
    return principal


AuditViewer = Annotated[Principal, Depends(_audit_viewer)]
AuditSupervisor = Annotated[Principal, Depends(_audit_supervisor)]
