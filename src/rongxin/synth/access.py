"""Demo parties for trying the access features: an onboarded bank, enterprises that sign in,
and authorizations between them, plus two rights cases (``rongxin.synth.rights``: an objection
with the provider, a repair application under review) (``rongxin synth-access``, used by
``make demo``).

Everything goes through the real services — onboarding with a scored assessment and a second
approver, authorization requests checked against the purpose templates, approvals that echo
the risk notice and are signed — so the demo shows what production does. The tokens are written
to a file for the person trying the demo; they are ordinary API keys and can be revoked.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import FINANCING_PURPOSES, Principal, PrincipalKind, Purpose
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.consent import lifecycle, requests
from rongxin.consent.evidence import evidence_key
from rongxin.consent.notice import load_notices
from rongxin.consent.purposes import load_templates
from rongxin.consent.schemas import AuthorizationRequest
from rongxin.db.base import utcnow
from rongxin.entities import uscc as uscc_rules
from rongxin.entities.search import search_entities
from rongxin.errors import InvalidInput
from rongxin.institutions import assessments
from rongxin.institutions import service as institutions_service
from rongxin.institutions.controls import load_controls
from rongxin.institutions.schemas import Approval, InstitutionApply, InstitutionKind, ScoreInput
from rongxin.synth import rights

DEMO_BANK: Final = "demo-bank"
AUTHORIZED_ITEMS: Final = ("social_insurance", "electricity", "tax_payment")


def _bank_uscc() -> str:
    body = "MA2YDEM8"  # the organization code (the USCC alphabet has no I, O, S, V, Z)
    stem = "91350100" + body + uscc_rules.organization_check_character(body)
    return stem + uscc_rules.check_character(stem)


def _onboard_bank(session: Session) -> str:
    """Onboard the demo bank (or add a key to it) and return an API key token."""
    if institutions_service.institution_status(session, DEMO_BANK) is not None:
        return access_service.create_api_key(
            session, kind=PrincipalKind.institution, code=DEMO_BANK, label="demo"
        ).token
    institutions_service.apply(
        session,
        spec=InstitutionApply(
            code=DEMO_BANK,
            name="榕城示范银行股份有限公司",
            uscc=_bank_uscc(),
            kind=InstitutionKind.bank,
            license_number="B0000H235010001",
            contact_department="普惠金融事业部",
            contact_phone="0591-87000000",
            contact_email="puhui@demo-bank.example.cn",
            address="福建省福州市鼓楼区五四路1号",
            requested_purposes=sorted(FINANCING_PURPOSES),
            regions=["350000"],
        ),
        actor="demo:applicant",
    )
    controls = load_controls()
    started = assessments.start_assessment(
        session, code=DEMO_BANK, controls=controls, assessor="demo:assessor"
    )
    assessments.record_scores(
        session,
        assessment_id=started.id,
        scores=[
            ScoreInput(control_code=code, score=100, evidence_ref=f"DEMO-{n:03d}")
            for n, code in enumerate(controls.controls(), start=1)
        ],
        actor="demo:assessor",
    )
    activated = assessments.approve(
        session,
        assessment_id=started.id,
        approver="demo:approver",
        approval=Approval(allowed_purposes=sorted(FINANCING_PURPOSES), daily_quota=10_000),
    )
    if activated.api_key is None:  # pragma: no cover - first activation always issues a key
        raise InvalidInput("the demo bank was activated without a key")
    return activated.api_key.token


def seed_access(
    session: Session, *, catalog: Catalog, settings: Settings, enterprises: int = 3
) -> dict[str, Any]:
    """The demo bank, ``enterprises`` enterprises with API keys, and a pre-loan authorization
    from the first of them (items: social insurance, electricity, tax payments)."""
    if enterprises < 1:
        raise InvalidInput("need at least one enterprise", field="enterprises")
    page = search_entities(session, limit=max(50, enterprises * 10))
    # companies (企业法人, USCC "91…") first: they have employees, utilities and tax records
    candidates = sorted(page.items, key=lambda e: (not e.uscc.startswith("91"), e.name))
    if not candidates:
        raise InvalidInput(
            "no market entities yet: load a package first (`rongxin ingest --manifest …`)"
        )
    bank_token = _onboard_bank(session)
    firms = []
    for entity in candidates[:enterprises]:
        key = access_service.create_api_key(
            session, kind=PrincipalKind.enterprise, code=entity.uscc, label="demo"
        )
        firms.append({"uscc": entity.uscc, "name": entity.name, "token": key.token})
    now = utcnow()
    first = firms[0]["uscc"]
    asked = requests.request_authorization(
        session,
        catalog=catalog,
        templates=load_templates(settings.consent_purposes_path),
        institution_code=DEMO_BANK,
        spec=AuthorizationRequest(
            uscc=first,
            loan_application_ref="DEMO-LA-0001",
            purpose=Purpose.pre_loan,
            items=list(AUTHORIZED_ITEMS),
            data_from_date=(now - timedelta(days=730)).date(),
            data_to_date=now.date(),
            retention_days=30,
            valid_until=now + timedelta(days=25),
        ),
        actor=Principal(kind=PrincipalKind.institution, code=DEMO_BANK),
        now=now,
    )
    notices = load_notices(settings.consent_notice_dir)
    granted = lifecycle.approve(
        session,
        authorization_id=asked.id,
        uscc=first,
        actor=Principal(kind=PrincipalKind.enterprise, code=first),
        risk_notice_sha256=notices.in_force(now).sha256,
        notices=notices,
        key=evidence_key(settings.secret_key),
        now=now,
    )
    cases = rights.seed_rights(
        session, catalog=catalog, settings=settings, exclude={f["uscc"] for f in firms}
    )
    return {
        "institution": {"code": DEMO_BANK, "token": bank_token},
        "enterprises": firms,
        "rights": cases,
        "authorization": {
            "id": granted.id,
            "uscc": first,
            "purpose": Purpose.pre_loan.value,
            "items": list(AUTHORIZED_ITEMS),
            "valid_until": granted.valid_until.isoformat(),
        },
    }
