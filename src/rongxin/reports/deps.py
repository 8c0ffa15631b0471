"""Who may ask for reports and usage feedback."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends

from rongxin.access.deps import CurrentPrincipal
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind

#: report API callers; what each sees is decided per item by rongxin.access.policy
REPORT_VIEWERS: Final = frozenset(
    {
        PrincipalKind.institution,
        PrincipalKind.operator,
        PrincipalKind.regulator,
        PrincipalKind.enterprise,
    }
)


def require_report_viewer(principal: Principal) -> Principal:
    """``principal`` if it may ask for credit reports at all (Forbidden otherwise)."""
    if principal.kind not in REPORT_VIEWERS:
        raise Forbidden(
            "credit reports are for institution, enterprise, operator or regulator credentials"
        )
    return principal


async def _usage_viewer(principal: CurrentPrincipal) -> Principal:
    if principal.kind not in (PrincipalKind.provider, PrincipalKind.operator):
        raise Forbidden("usage feedback is for provider or operator credentials")
    return principal


UsageViewer = Annotated[Principal, Depends(_usage_viewer)]
