"""Who may see and handle alerts: operators and regulators read; operators act."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends

from rongxin.access.deps import CurrentPrincipal
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.deps import SettingsDep
from rongxin.monitoring.rules import AbuseRules, load_rules

STAFF: Final = frozenset({PrincipalKind.operator, PrincipalKind.regulator})


async def _staff(principal: CurrentPrincipal) -> Principal:
    if principal.kind not in STAFF:
        raise Forbidden("abuse alerts are for operator or regulator credentials")
    return principal


async def get_rules(settings: SettingsDep) -> AbuseRules:
    """The abuse rules in force (``RONGXIN_ABUSE_RULES_PATH`` or the default)."""
    return load_rules(settings.abuse_rules_path)


AlertViewer = Annotated[Principal, Depends(_staff)]
RulesDep = Annotated[AbuseRules, Depends(get_rules)]
