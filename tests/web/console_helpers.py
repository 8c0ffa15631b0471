"""Shared data and sign-in for the console, report and history page tests (importable as
``console_helpers``: tests/web is on the path)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import provider_factories
from entity_factories import create_entity, make_uscc
from fastapi.testclient import TestClient
from record_factories import create_record, electricity_bill
from sqlalchemy.orm import Session

from rongxin.consent.evidence import evidence_key
from rongxin.consent.schemas import AuthorizationRead

BANK = "bank_console"
BANK_NAME = "福州榕城农村商业银行股份有限公司"  # institution_factories.application()
FIRM_NAME = "福州市鼓楼区闽江电气有限公司"
ACCOUNT = "3501000012347788"
MASKED = "3501********7788"

Login = Callable[[str, str], TestClient]


def seed_firm(session: Session) -> str:
    """An enterprise with a public penalty and an electricity bill (needs authorization)."""
    uscc = make_uscc(region="350102", seed=7101)
    create_entity(session, uscc=uscc, name=FIRM_NAME)
    create_record(session, item_code="admin_penalty", uscc=uscc, payload={"fine_amount": 5000})
    electricity_bill(session, uscc=uscc, account_no=ACCOUNT)
    session.flush()
    return uscc


def grant(
    session: Session, uscc: str, items: list[str], *, institution: str = BANK, **terms: Any
) -> AuthorizationRead:
    """The institution asks, the enterprise approves (now): an active authorization."""
    console_terms = {"loan_application_ref": "LA-2026-0077", "access_mode": "view"}
    return provider_factories.grant(
        session,
        uscc,
        items,
        institution=institution,
        key=evidence_key("a-test-secret-for-console-evidence"),
        **(console_terms | terms),
    )
