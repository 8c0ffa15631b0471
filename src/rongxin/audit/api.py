"""Access-log routes: the entries (scoped per viewer) and the chain's verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from rongxin.access.errors import Forbidden
from rongxin.access.schemas import PrincipalKind
from rongxin.audit import service
from rongxin.audit.deps import SUPERVISORS, AuditSupervisor, AuditViewer
from rongxin.audit.schemas import AuditEntryPage, VerifyResult
from rongxin.deps import CatalogDep, SessionDep, SettingsDep

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/entries", response_model=AuditEntryPage)
def list_entries(
    principal: AuditViewer,
    session: SessionDep,
    catalog: CatalogDep,
    uscc: Annotated[
        str | None,
        Query(pattern=r"^[0-9A-Z]{18}$", description="Only entries about this entity."),
    ] = None,
    actor: Annotated[
        str | None, Query(max_length=64, description="Only entries of this actor code.")
    ] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. report.view")] = None,
    provider: Annotated[
        str | None,
        Query(max_length=64, description="Only entries that touched this provider's items."),
    ] = None,
    since: Annotated[datetime | None, Query(description="occurred at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="occurred before (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
    cursor: Annotated[
        int | None, Query(ge=1, description="next_cursor of the previous page")
    ] = None,
) -> AuditEntryPage:
    """Access-log entries, newest first (keyset pages). Operators and regulators see the whole
    log; an enterprise sees who accessed its own data (访问记录); a provider sees how its data
    was used (使用情况反馈), each entry listing only the provider's own items."""
    if principal.kind is PrincipalKind.enterprise:
        if uscc is not None and uscc != principal.code:
            raise Forbidden("an enterprise key may see only the access history of its own USCC")
        uscc = principal.code
    elif principal.kind is PrincipalKind.provider:
        if provider is not None and provider != principal.code:
            raise Forbidden("a provider key may see only the use of its own data")
        provider = principal.code
    return service.entries(
        session,
        uscc=uscc,
        actor_code=actor,
        action=action,
        provider_code=provider,
        catalog=catalog,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
        hide_user=principal.kind not in SUPERVISORS,
    )


@router.get("/verify", response_model=VerifyResult)
def verify_log(
    _principal: AuditSupervisor, session: SessionDep, settings: SettingsDep
) -> VerifyResult:
    """Walk the whole hash chain and every signed checkpoint; ``problem`` names the first bad
    entry (``intact`` is false then). On a long log prefer ``rongxin audit verify``."""
    return service.verify(session, settings=settings)
