"""Typed factories for the consent tests (importable as ``consent_factories``)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from entity_factories import make_uscc
from sqlalchemy.orm import Session

from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.catalog import service as catalog_service
from rongxin.consent import lifecycle, requests
from rongxin.consent.evidence import evidence_key
from rongxin.consent.notice import load_notices
from rongxin.consent.purposes import load_templates
from rongxin.consent.schemas import AuthorizationRead, AuthorizationRequest

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
FIRM = make_uscc(seed=41)
OTHER_FIRM = make_uscc(seed=42)
BANK = "bank_a"
OTHER_BANK = "bank_b"
BANK_ACTOR = Principal(kind=PrincipalKind.institution, code=BANK, key_id="k-bank-a")
FIRM_ACTOR = Principal(kind=PrincipalKind.enterprise, code=FIRM, key_id="k-firm")
KEY = evidence_key("test-secret-key-for-consent-evidence")


def request_spec(**overrides: Any) -> AuthorizationRequest:
    """A valid pre-loan request for FIRM's tax payments, valid 20 days from T0."""
    fields: dict[str, Any] = {
        "uscc": FIRM,
        "loan_application_ref": "LA-2026-0001",
        "purpose": "pre_loan",
        "items": ["tax_payment", "social_insurance"],
        "access_mode": "view",
        "data_from_date": date(2024, 1, 1),
        "data_to_date": date(2025, 12, 31),
        "retention_days": 365,
        "valid_until": T0 + timedelta(days=20),
    }
    fields.update(overrides)
    return AuthorizationRequest.model_validate(fields)


def create_request(
    session: Session,
    *,
    institution: str = BANK,
    now: datetime = T0,
    **overrides: Any,
) -> AuthorizationRead:
    actor = Principal(kind=PrincipalKind.institution, code=institution, key_id=f"k-{institution}")
    return requests.request_authorization(
        session,
        catalog=catalog_service.load_catalog(),
        templates=load_templates(),
        institution_code=institution,
        spec=request_spec(**overrides),
        actor=actor,
        now=now,
    )


def approve(
    session: Session, authorization: AuthorizationRead, *, now: datetime = T0
) -> AuthorizationRead:
    notices = load_notices()
    actor = Principal(kind=PrincipalKind.enterprise, code=authorization.uscc, key_id="k-firm")
    return lifecycle.approve(
        session,
        authorization_id=authorization.id,
        uscc=authorization.uscc,
        actor=actor,
        risk_notice_sha256=notices.in_force(now).sha256,
        notices=notices,
        key=KEY,
        now=now,
    )


def create_active(session: Session, *, now: datetime = T0, **overrides: Any) -> AuthorizationRead:
    """A request approved by the enterprise at ``now``."""
    return approve(session, create_request(session, now=now, **overrides), now=now)


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF_FIELD.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)
