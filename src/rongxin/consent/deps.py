"""Who may call the consent routes, and the consent data every route needs.

- institutions request and see their own requests (``RequestingInstitution``);
- the enterprise decides on and sees those about its own USCC (``EnterprisePrincipal``);
- operators and regulators read everything; providers nothing (``ConsentViewer``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import Depends

from rongxin.access.deps import CurrentPrincipal
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.consent import notice, purposes
from rongxin.consent.evidence import EvidenceKey, evidence_key
from rongxin.deps import SettingsDep

VIEWERS = (
    PrincipalKind.institution,
    PrincipalKind.enterprise,
    PrincipalKind.operator,
    PrincipalKind.regulator,
)


async def _viewer(principal: CurrentPrincipal) -> Principal:
    if principal.kind not in VIEWERS:
        raise Forbidden(
            "authorizations are for institution, enterprise, operator or regulator credentials"
        )
    return principal


async def _institution(principal: CurrentPrincipal) -> Principal:
    if principal.kind is not PrincipalKind.institution:
        raise Forbidden("only an access institution asks an enterprise for authorization")
    return principal


@cache
def _templates(path: Path | None) -> purposes.PurposeTemplates:
    return purposes.load_templates(path)


async def templates_for(settings: SettingsDep) -> purposes.PurposeTemplates:
    """The purpose templates (``RONGXIN_CONSENT_PURPOSES_PATH`` or shipped), read once."""
    return _templates(settings.consent_purposes_path)


async def notices_for(settings: SettingsDep) -> notice.RiskNotices:
    """The risk notices (``RONGXIN_CONSENT_NOTICE_DIR`` or shipped), read once."""
    return notice.load_notices(settings.consent_notice_dir)


async def key_for(settings: SettingsDep) -> EvidenceKey:
    """This node's evidence-signing key (derived from ``RONGXIN_SECRET_KEY``)."""
    return evidence_key(settings.secret_key)


ConsentViewer = Annotated[Principal, Depends(_viewer)]
RequestingInstitution = Annotated[Principal, Depends(_institution)]
TemplatesDep = Annotated[purposes.PurposeTemplates, Depends(templates_for)]
NoticesDep = Annotated[notice.RiskNotices, Depends(notices_for)]
EvidenceKeyDep = Annotated[EvidenceKey, Depends(key_for)]
