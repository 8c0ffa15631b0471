"""Who may see onboarding records, and the control set in force."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from rongxin.access.deps import CurrentPrincipal
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.deps import SettingsDep
from rongxin.institutions.controls import ControlSet, load_controls

VIEWERS = (PrincipalKind.operator, PrincipalKind.regulator, PrincipalKind.institution)


async def _viewer(principal: CurrentPrincipal) -> Principal:
    if principal.kind not in VIEWERS:
        raise Forbidden("onboarding records are for operator, regulator or institution credentials")
    return principal


async def _staff(principal: CurrentPrincipal) -> Principal:
    if principal.kind not in (PrincipalKind.operator, PrincipalKind.regulator):
        raise Forbidden("this endpoint is for operator or regulator credentials")
    return principal


async def get_controls(settings: SettingsDep) -> ControlSet:
    """The security-control set in force (``RONGXIN_SECURITY_CONTROLS_PATH`` or the default)."""
    return load_controls(settings.security_controls_path)


def scope_of(principal: Principal) -> str | None:
    """The one institution the caller may see; ``None`` = every institution (staff)."""
    return principal.code if principal.kind is PrincipalKind.institution else None


InstitutionViewer = Annotated[Principal, Depends(_viewer)]
StaffViewer = Annotated[Principal, Depends(_staff)]
ControlsDep = Annotated[ControlSet, Depends(get_controls)]
