"""Reports per viewer over HTTP (issue 4 acceptance): without an authorization an institution
sees public sections only; the enterprise grants → the authorized section appears, masked;
revoke → denied at once; expiry → denied; each step is in the enterprise's access history and
the provider's usage feedback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from institution_factories import key_headers
from record_factories import electricity_bill
from report_factories import Seeded, conforming_report
from sqlalchemy.orm import Session

from rongxin.access.schemas import PrincipalKind
from rongxin.consent.models import Authorization
from rongxin.db.base import utcnow

ACCOUNT = "3501000012347788"
MASKED = "3501********7788"


def _headers(session: Session, kind: PrincipalKind, code: str) -> dict[str, str]:
    return key_headers(session, kind, code)


@pytest.fixture
def parties(session: Session, seeded: Seeded) -> dict[str, dict[str, str]]:
    electricity_bill(session, uscc=seeded.uscc, account_no=ACCOUNT)
    session.flush()
    return {
        "bank": _headers(session, PrincipalKind.institution, "bank_fz_001"),
        "firm": _headers(session, PrincipalKind.enterprise, seeded.uscc),
        "grid": _headers(session, PrincipalKind.provider, "power_grid"),
    }


def _item(report: dict[str, Any], code: str) -> dict[str, Any]:
    for section in report["sections"]:
        for item in section["items"]:
            if item["item_code"] == code:
                return dict(item)
    raise AssertionError(f"{code} not in the report")


def _report(client: TestClient, uscc: str, headers: dict[str, str], purpose: str) -> Any:
    response = client.get(f"/api/v1/reports/{uscc}", params={"purpose": purpose}, headers=headers)
    assert response.status_code == 200, response.text
    return conforming_report(response.text)


def _grant(client: TestClient, uscc: str, parties: dict[str, dict[str, str]], **terms: Any) -> str:
    body = {
        "uscc": uscc,
        "loan_application_ref": "LA-2026-0042",
        "purpose": "pre_loan",
        "items": ["electricity"],
        "access_mode": "view",
        "data_from_date": "2024-01-01",
        "data_to_date": "2025-12-31",
        "retention_days": 30,
        "valid_until": (utcnow() + timedelta(days=20)).isoformat(),
        **terms,
    }
    response = client.post("/api/v1/consent/authorizations", json=body, headers=parties["bank"])
    assert response.status_code == 201, response.text
    authorization_id = str(response.json()["id"])
    notice = client.get(
        f"/api/v1/consent/authorizations/{authorization_id}/notice", headers=parties["firm"]
    )
    assert notice.status_code == 200, notice.text
    approved = client.post(
        f"/api/v1/consent/authorizations/{authorization_id}/approve",
        json={"risk_notice_sha256": notice.json()["notice"]["sha256"]},
        headers=parties["firm"],
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"
    return authorization_id


def test_grant_shows_the_authorized_section_masked_and_revoke_removes_it(
    client: TestClient, seeded: Seeded, parties: dict[str, dict[str, str]]
) -> None:
    before = _item(_report(client, seeded.uscc, parties["bank"], "pre_loan"), "electricity")
    assert before["available"] is False
    assert before["restriction"] == "authorization_required"
    assert before["records"] == []

    authorization_id = _grant(client, seeded.uscc, parties)
    report = _report(client, seeded.uscc, parties["bank"], "pre_loan")
    granted = _item(report, "electricity")
    assert granted["available"] is True
    assert (granted["access"], granted["authorization_id"]) == ("authorized", authorization_id)
    fields = {f["name"]: f["value"] for f in granted["records"][0]["fields"]}
    assert fields["account_no"] == MASKED
    assert fields["amount_due"] == 980.0
    assert ACCOUNT not in str(report)  # not in the record key either
    section = next(sec for sec in report["sections"] if sec["code"] == "authorized")
    assert section["note"].startswith("以下信息经企业授权")
    assert next(n for n in report["notices"] if n["code"] == "scope")["text"].startswith(
        "本报告含依法可公开的信用信息，以及经信息主体授权"
    )
    # another purpose is not covered by a pre-loan authorization
    other = _item(_report(client, seeded.uscc, parties["bank"], "post_loan"), "electricity")
    assert other["available"] is False

    # the enterprise itself sees everything unmasked
    own = _item(_report(client, seeded.uscc, parties["firm"], "self_query"), "electricity")
    assert own["access"] == "subject"
    assert {f["name"]: f["value"] for f in own["records"][0]["fields"]}["account_no"] == ACCOUNT

    revoked = client.post(
        f"/api/v1/consent/authorizations/{authorization_id}/revoke",
        json={"reason": "贷款已放弃"},
        headers=parties["firm"],
    )
    assert revoked.status_code == 200, revoked.text
    after = _item(_report(client, seeded.uscc, parties["bank"], "pre_loan"), "electricity")
    assert after["available"] is False

    # the enterprise's access history shows who looked, under which authorization
    history = client.get(
        "/api/v1/audit/entries", params={"uscc": seeded.uscc}, headers=parties["firm"]
    )
    assert history.status_code == 200, history.text
    entries = history.json()["items"]
    bank_reads = [
        e for e in entries if e["actor_code"] == "bank_fz_001" and e["action"].startswith("report.")
    ]
    assert len(bank_reads) == 4
    authorized = [e for e in bank_reads if e["authorization_id"] == authorization_id]
    assert len(authorized) == 1
    assert "electricity" in authorized[0]["items"]
    assert all("electricity" not in e["items"] for e in bank_reads if e not in authorized)
    # and the grant and its revocation, next to the reads
    consent = [
        (e["action"], e["actor_kind"]) for e in entries if e["action"].startswith("consent.")
    ]
    assert consent == [
        ("consent.revoke", "enterprise"),
        ("consent.approve", "enterprise"),
        ("consent.request", "institution"),
    ]

    # and the provider sees its data used once
    usage = client.get("/api/v1/reports/usage", headers=parties["grid"])
    assert usage.status_code == 200, usage.text
    electricity = next(i for i in usage.json()["items"] if i["item_code"] == "electricity")
    by_purpose = {p["purpose"]: p["report_count"] for p in electricity["by_purpose"]}
    assert by_purpose == {"pre_loan": 1, "self_query": 1}


def test_records_outside_the_authorized_date_range_stay_hidden(
    client: TestClient, seeded: Seeded, parties: dict[str, dict[str, str]]
) -> None:
    _grant(client, seeded.uscc, parties, data_from_date="2025-07-01", data_to_date="2025-12-31")
    granted = _item(_report(client, seeded.uscc, parties["bank"], "pre_loan"), "electricity")
    assert granted["available"] is True
    assert granted["records"] == []  # the June 2025 bill is before the range


def test_an_expired_authorization_shows_nothing(
    client: TestClient, session: Session, seeded: Seeded, parties: dict[str, dict[str, str]]
) -> None:
    authorization_id = _grant(client, seeded.uscc, parties)
    granted = _item(_report(client, seeded.uscc, parties["bank"], "pre_loan"), "electricity")
    assert granted["authorization_id"] == authorization_id
    session.execute(
        Authorization.__table__.update()
        .where(Authorization.id == authorization_id)
        .values(valid_until=utcnow() - timedelta(seconds=1))
    )
    expired = _item(_report(client, seeded.uscc, parties["bank"], "pre_loan"), "electricity")
    assert expired["available"] is False
    assert expired["restriction"] == "authorization_required"


def test_a_refused_report_is_logged_as_denied(
    client: TestClient, seeded: Seeded, parties: dict[str, dict[str, str]]
) -> None:
    refused = client.get(
        f"/api/v1/reports/{seeded.uscc}",
        params={"purpose": "supervision"},
        headers=parties["bank"],
    )
    assert refused.status_code == 403
    history = client.get(
        "/api/v1/audit/entries", params={"uscc": seeded.uscc}, headers=parties["firm"]
    )
    denied = [e for e in history.json()["items"] if e["outcome"] == "denied"]
    assert [(e["actor_code"], e["action"], e["purpose"]) for e in denied] == [
        ("bank_fz_001", "report.json", "supervision")
    ]
