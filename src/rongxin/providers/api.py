"""Data verification (数据核验, M3) for access institutions."""

from __future__ import annotations

import re
from typing import Annotated, Final

from fastapi import APIRouter, Depends

from rongxin import errors
from rongxin.access.deps import CurrentPrincipal
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.audit import writer as audit_writer
from rongxin.deps import CatalogDep, GroupCommitDep, SessionDep, SettingsDep
from rongxin.providers import service
from rongxin.providers.deps import ProviderClientDep
from rongxin.providers.schemas import VerifyRequest, VerifyResponse

router = APIRouter(tags=["verification"])
ITEM_CODE: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


async def _institution(principal: CurrentPrincipal) -> Principal:
    if principal.kind is not PrincipalKind.institution:
        raise Forbidden("data verification is for access institutions' credentials")
    return principal


VerifyingInstitution = Annotated[Principal, Depends(_institution)]


@router.post("/verify", response_model=VerifyResponse)
def verify(
    body: VerifyRequest,
    principal: VerifyingInstitution,
    session: SessionDep,
    catalog: CatalogDep,
    client: ProviderClientDep,
    settings: SettingsDep,
    writer: GroupCommitDep,
) -> VerifyResponse:
    """Check claimed values about an enterprise (annual tax paid, property ownership …) under
    its authorization. Each claim comes back as ``match`` / ``no_match`` / ``in_range`` /
    ``out_of_range`` / ``no_data`` — the stored values never do. 503 when the providing
    department's service cannot answer."""
    try:
        return service.verify_claims(
            session, client, catalog=catalog, principal=principal, request=body, settings=settings
        )
    except errors.Forbidden as exc:  # refused reads are logged too (abuse rules, Z3)
        session.commit()  # end this transaction before the shared writer takes the write lock
        denied = audit_writer.denial(
            principal,
            action="verify",
            uscc=body.uscc,
            items=[body.item] if ITEM_CODE.match(body.item) else [],
            purpose=body.purpose,
            reason=exc.message,
        )
        audit_writer.record_denial_sync(writer, denied, settings=settings)
        raise
