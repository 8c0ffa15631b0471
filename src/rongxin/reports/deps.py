"""Who may see usage feedback: a provider (its own data only) or the platform operator."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from rongxin.access.deps import CurrentPrincipal
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind


def _usage_viewer(principal: CurrentPrincipal) -> Principal:
    if principal.kind not in (PrincipalKind.provider, PrincipalKind.operator):
        raise Forbidden("usage feedback is for provider or operator credentials")
    return principal


UsageViewer = Annotated[Principal, Depends(_usage_viewer)]
