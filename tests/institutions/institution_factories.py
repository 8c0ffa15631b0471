"""Typed factories for onboarding tests: applications, full scores, a whole onboarding."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime
from typing import Any

from entity_factories import make_uscc
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import FINANCING_PURPOSES, PrincipalKind, Purpose
from rongxin.db.base import utcnow
from rongxin.institutions import assessments, service
from rongxin.institutions.controls import ControlSet, load_controls
from rongxin.institutions.schemas import (
    ActivationResult,
    Approval,
    InstitutionApply,
    InstitutionKind,
    ScoreInput,
)

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
T0 = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # 10:00 China time
ASSESSOR = "console:assessor-li"
APPROVER = "console:approver-wang"


def application(
    code: str = "bank-fz", *, seed: int | None = None, **overrides: Any
) -> InstitutionApply:
    """A valid application; its USCC is derived from ``code`` (or ``seed``), so different
    codes get different USCCs."""
    seed = zlib.crc32(code.encode()) if seed is None else seed
    data: dict[str, Any] = {
        "code": code,
        "name": "福州榕城农村商业银行股份有限公司",
        "uscc": make_uscc(prefix="91", region="350100", seed=seed),
        "kind": InstitutionKind.bank,
        "license_number": "B1234H235010001",
        "contact_department": "普惠金融事业部",
        "contact_phone": "0591-87654321",
        "contact_email": "puhui@bank-fz.example.cn",
        "address": "福建省福州市鼓楼区五四路1号",
        "requested_purposes": [Purpose.pre_loan, Purpose.post_loan],
        "regions": ["350100"],
    }
    data.update(overrides)
    return InstitutionApply.model_validate(data)


def full_scores(controls: ControlSet | None = None, **overrides: int) -> list[ScoreInput]:
    """A score of 100 with an evidence reference for every control (``overrides`` by code)."""
    controls = controls or load_controls()
    return [
        ScoreInput(
            control_code=code,
            score=overrides.get(code, 100),
            evidence_ref=f"EV-2026-{index:03d}",
        )
        for index, code in enumerate(controls.controls(), start=1)
    ]


def onboard(
    session: Session,
    code: str = "bank-fz",
    *,
    seed: int | None = None,
    at: datetime | None = None,
    daily_quota: int = 1000,
    purposes: list[Purpose] | None = None,
) -> ActivationResult:
    """Apply, assess (every control met), approve: an active institution with an API key.

    Tests that need an institution credential use ``onboard(session, code).api_key.token``:
    only onboarded, active institutions pass ``rongxin.access.service.principal_is_active``.

    ``at`` defaults to now, so that the institution is active for the next year of requests.
    """
    at = at or utcnow()
    service.apply(session, spec=application(code, seed=seed), actor="applicant", at=at)
    started = assessments.start_assessment(
        session, code=code, controls=load_controls(), assessor=ASSESSOR, at=at
    )
    assessments.record_scores(
        session, assessment_id=started.id, scores=full_scores(), actor=ASSESSOR, at=at
    )
    return assessments.approve(
        session,
        assessment_id=started.id,
        approver=APPROVER,
        approval=Approval(
            allowed_purposes=purposes or sorted(FINANCING_PURPOSES), daily_quota=daily_quota
        ),
        at=at,
    )


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def institution_token(session: Session, code: str = "bank-fz") -> str:
    """An API key token of an onboarded, active institution: onboards it on first use, adds a
    key to it afterwards (tests that need several keys of one institution)."""
    if service.institution_status(session, code) is None:
        activated = onboard(session, code)
        assert activated.api_key is not None
        return activated.api_key.token
    return access_service.create_api_key(session, kind=PrincipalKind.institution, code=code).token


def institution_headers(session: Session, code: str = "bank-fz") -> dict[str, str]:
    return {"Authorization": f"Bearer {institution_token(session, code)}"}


def key_headers(session: Session, kind: PrincipalKind, code: str) -> dict[str, str]:
    """Bearer headers of a valid API key of any principal kind; an institution is onboarded
    first (only onboarded, active institutions authenticate)."""
    if kind is PrincipalKind.institution:
        return institution_headers(session, code)
    token = access_service.create_api_key(session, kind=kind, code=code).token
    return {"Authorization": f"Bearer {token}"}
