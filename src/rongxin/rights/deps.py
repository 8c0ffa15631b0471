"""Who may call the rights routes, and the rights data every route needs.

- the enterprise files and follows its own cases (``EnterprisePrincipal``);
- the providing department sees the objections routed to it and answers them, and reviews repair
  applications of its records (``CaseHandler``);
- operators accept or reject objections, review repairs, record broken commitments and see every
  deadline; regulators read (``CaseHandler``, ``RightsOperator``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from rongxin.access.deps import CurrentPrincipal
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.deps import SettingsDep
from rongxin.rights import calendar, rules
from rongxin.rights import service as rights_service

HANDLERS = (PrincipalKind.provider, PrincipalKind.operator, PrincipalKind.regulator)
CASE_VIEWERS = (PrincipalKind.enterprise, *HANDLERS)


async def _case_viewer(principal: CurrentPrincipal) -> Principal:
    if principal.kind not in CASE_VIEWERS:
        raise Forbidden(
            "objections and repairs are for enterprise, provider, operator or regulator credentials"
        )
    return principal


async def _handler(principal: CurrentPrincipal) -> Principal:
    if principal.kind not in HANDLERS:
        raise Forbidden("handling cases is for provider, operator or regulator credentials")
    return principal


async def _reviewer(principal: CurrentPrincipal) -> Principal:
    if principal.kind not in (PrincipalKind.provider, PrincipalKind.operator):
        raise Forbidden("repair applications are reviewed by the operator or the provider")
    return principal


async def _staff(principal: CurrentPrincipal) -> Principal:
    if principal.kind not in (PrincipalKind.operator, PrincipalKind.regulator):
        raise Forbidden("the deadline dashboard is for operator and regulator credentials")
    return principal


async def rules_for(settings: SettingsDep) -> rules.RightsRules:
    return rules.load_rules(settings.rights_rules_path)


async def calendar_for(settings: SettingsDep) -> calendar.WorkingCalendar:
    return calendar.load_calendar(settings.holiday_calendar_path)


async def commitments_for(settings: SettingsDep) -> rights_service.CommitmentTexts:
    return rights_service.load_commitments(settings.commitment_dir)


CaseViewer = Annotated[Principal, Depends(_case_viewer)]
CaseHandler = Annotated[Principal, Depends(_handler)]
RepairReviewer = Annotated[Principal, Depends(_reviewer)]
RightsStaff = Annotated[Principal, Depends(_staff)]
RulesDep = Annotated[rules.RightsRules, Depends(rules_for)]
CalendarDep = Annotated[calendar.WorkingCalendar, Depends(calendar_for)]
CommitmentsDep = Annotated[rights_service.CommitmentTexts, Depends(commitments_for)]
