"""Shared set-up for the benchmarks: an onboarded institution, as the platform requires."""

from __future__ import annotations

import zlib

from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import FINANCING_PURPOSES, PrincipalKind
from rongxin.entities import uscc as uscc_rules
from rongxin.institutions import assessments
from rongxin.institutions import service as institutions_service
from rongxin.institutions.controls import load_controls
from rongxin.institutions.schemas import (
    MAX_DAILY_QUOTA,
    Approval,
    InstitutionApply,
    InstitutionKind,
    ScoreInput,
)


def _institution_uscc(code: str) -> str:
    """A valid USCC for the benchmark institution (企业法人, Fuzhou), derived from its code."""
    body = f"{zlib.crc32(code.encode()) % 10**8:08d}"  # the organization code's 8 characters
    stem = "91350100" + body + uscc_rules.organization_check_character(body)
    return stem + uscc_rules.check_character(stem)


def institution_token(session: Session, code: str, *, daily_quota: int = MAX_DAILY_QUOTA) -> str:
    """An API key of institution ``code``, onboarded (applied, assessed with every control
    met, approved by a second person) on first use, for every financing purpose."""
    if institutions_service.institution_status(session, code) is None:
        institutions_service.apply(
            session,
            spec=InstitutionApply(
                code=code,
                name="基准测试银行股份有限公司",
                uscc=_institution_uscc(code),
                kind=InstitutionKind.bank,
                license_number="B0000H000000001",
                contact_department="普惠金融部",
                contact_phone="0591-00000000",
                contact_email="bench@bank.example.cn",
                address="福建省福州市鼓楼区",
                requested_purposes=sorted(FINANCING_PURPOSES),
                regions=["350100"],
            ),
            actor="bench",
        )
        controls = load_controls()
        started = assessments.start_assessment(
            session, code=code, controls=controls, assessor="bench:assessor"
        )
        assessments.record_scores(
            session,
            assessment_id=started.id,
            scores=[
                ScoreInput(control_code=c, score=100, evidence_ref="BENCH")
                for c in controls.controls()
            ],
            actor="bench:assessor",
        )
        activated = assessments.approve(
            session,
            assessment_id=started.id,
            approver="bench:approver",
            approval=Approval(allowed_purposes=sorted(FINANCING_PURPOSES), daily_quota=daily_quota),
        )
        assert activated.api_key is not None
        return activated.api_key.token
    created = access_service.create_api_key(session, kind=PrincipalKind.institution, code=code)
    return created.token
