"""Typed factories and helpers for the rights tests (importable as ``rights_factories``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Final

import pytest
from entity_factories import create_entity, make_uscc
from fastapi.testclient import TestClient
from institution_factories import institution_headers
from record_factories import create_record
from report_factories import conforming_report
from sqlalchemy.orm import Session

from rongxin.records.models import CreditRecord
from rongxin.rights.service import load_commitments

FIRM: Final = make_uscc(region="350102", seed=6061)
OTHER_FIRM: Final = make_uscc(region="350102", seed=6062)
PENALTY_NO: Final = "榕鼓市监罚〔2026〕31号"
KEY: Final = f"{FIRM}\x1f{PENALTY_NO}"
PROVIDER: Final = "ndrc"  # the catalog's provider of admin_penalty
#: 2026-09-30 10:00 in Beijing: the day before the National Day holiday (Oct 1–7, 2026)
EVE_OF_NATIONAL_DAY: Final = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)

#: modules that read the clock in the rights domain
CLOCK_MODULES: Final = (
    "rongxin.rights.objections",
    "rongxin.rights.repair",
    "rongxin.rights.service",
    "rongxin.rights.self_reported",
    "rongxin.rights.deadlines",
)


def set_clock(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    for module in CLOCK_MODULES:
        monkeypatch.setattr(f"{module}.utcnow", lambda: moment)


def penalty(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "decision_no": PENALTY_NO,
        "violation_type": "未按规定公示年度报告",
        "penalty_type": "罚款",
        "fine_amount": 5000,
        "decision_date": "2026-05-31",
        "authority": "福州市鼓楼区市场监督管理局",
        "severity": "一般",
        "special_domain": "无",
    }
    values.update(overrides)
    return values


def seed_firm(session: Session, **penalty_overrides: Any) -> CreditRecord:
    """FIRM and OTHER_FIRM registered; FIRM has one published administrative penalty."""
    create_entity(session, uscc=FIRM, name="福州市鼓楼区守信科技有限公司", region_code="350102")
    create_entity(session, uscc=OTHER_FIRM, name="福州市鼓楼区别家科技有限公司")
    return create_record(
        session, item_code="admin_penalty", uscc=FIRM, payload=penalty(**penalty_overrides)
    )


def commitment_echo(at: datetime = EVE_OF_NATIONAL_DAY) -> dict[str, str]:
    text = load_commitments().in_force(at)
    return {"version": text.version, "sha256": text.sha256}


def objection_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "item_code": "admin_penalty",
        "record_key": KEY,
        "fields": ["fine_amount"],
        "reason": "罚款金额有误：决定书载明罚款五千元，已缴纳并有缴款凭证。",
        "commitment": commitment_echo(),
    }
    body.update(overrides)
    return body


def beijing_morning(day: date) -> datetime:
    """10:00 in Beijing on ``day``."""
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


def penalty_records(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The administrative-penalty records a report (JSON) shows."""
    for section in report["sections"]:
        for item in section["items"]:
            if item["item_code"] == "admin_penalty":
                return list(item["records"])
    return []


def repair_body(at: datetime = EVE_OF_NATIONAL_DAY, **overrides: Any) -> dict[str, Any]:
    """A repair application of FIRM's penalty, signing the commitment in force at ``at``."""
    body: dict[str, Any] = {
        "item_code": "admin_penalty",
        "record_key": KEY,
        "correction": "已按期补报年度报告并缴清罚款，附缴款凭证。",
        "commitment": commitment_echo(at),
    }
    body.update(overrides)
    return body


RIGHTS_API: Final = "/api/v1/rights"


def institution_report(
    client: TestClient, session: Session, institution: str = "bank-rights"
) -> dict[str, Any]:
    """FIRM's report as an onboarded institution sees it (pre-loan)."""
    r = client.get(
        f"/api/v1/reports/{FIRM}",
        params={"purpose": "pre_loan"},
        headers=institution_headers(session, institution),
    )
    assert r.status_code == 200, r.text
    return conforming_report(r.text)


def accepted_objection(
    client: TestClient, firm: dict[str, str], operator: dict[str, str]
) -> dict[str, Any]:
    """An objection to FIRM's penalty, filed by the firm and accepted by the operator."""
    filed = client.post(f"{RIGHTS_API}/objections", json=objection_body(), headers=firm)
    assert filed.status_code == 201, filed.text
    r = client.post(
        f"{RIGHTS_API}/objections/{filed.json()['id']}/accept",
        json={"note": "材料齐全，予以受理"},
        headers=operator,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())
