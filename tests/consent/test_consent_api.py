"""/api/v1/consent over HTTP: who may do what, the approve flow with the notice hash, evidence."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from consent_factories import BANK, FIRM, OTHER_BANK, OTHER_FIRM
from fastapi.testclient import TestClient
from institution_factories import key_headers
from sqlalchemy.orm import Session

from rongxin.access.schemas import PrincipalKind, Purpose
from rongxin.consent import service
from rongxin.db.base import utcnow

BASE = "/api/v1/consent"


def _auth(session: Session, kind: str, code: str) -> dict[str, str]:
    return key_headers(session, PrincipalKind(kind), code)


@pytest.fixture
def keys(session: Session) -> dict[str, dict[str, str]]:
    return {
        "bank": _auth(session, "institution", BANK),
        "other_bank": _auth(session, "institution", OTHER_BANK),
        "firm": _auth(session, "enterprise", FIRM),
        "other_firm": _auth(session, "enterprise", OTHER_FIRM),
        "operator": _auth(session, "operator", "ops"),
        "regulator": _auth(session, "regulator", "pboc"),
        "provider": _auth(session, "provider", "sat"),
    }


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uscc": FIRM,
        "loan_application_ref": "LA-7",
        "purpose": "pre_loan",
        "items": ["tax_payment"],
        "access_mode": "view",
        "data_from_date": "2024-01-01",
        "data_to_date": "2025-12-31",
        "retention_days": 30,
        "valid_until": (utcnow() + timedelta(days=14)).isoformat(),
    }
    body.update(overrides)
    return body


def _request(client: TestClient, keys: dict[str, dict[str, str]], **overrides: Any) -> str:
    r = client.post(f"{BASE}/authorizations", json=_body(**overrides), headers=keys["bank"])
    assert r.status_code == 201, r.text
    out: str = r.json()["id"]
    return out


def test_request_notice_approve_revoke_over_http(
    client: TestClient, session: Session, keys: dict[str, dict[str, str]]
) -> None:
    aid = _request(client, keys)
    pending = client.get(f"{BASE}/authorizations/pending", headers=keys["firm"]).json()
    assert [a["id"] for a in pending["items"]] == [aid]
    assert pending["items"][0]["status"] == "requested"

    shown = client.get(f"{BASE}/authorizations/{aid}/notice", headers=keys["firm"])
    assert shown.status_code == 200
    notice = shown.json()["notice"]
    assert notice["text"].startswith("# 企业授权风险提示")
    assert shown.json()["authorization"]["items"] == ["tax_payment"]

    stale = client.post(
        f"{BASE}/authorizations/{aid}/approve",
        json={"risk_notice_sha256": "a" * 64},
        headers=keys["firm"],
    )
    assert stale.status_code == 409
    assert stale.json()["error"] == "stale_risk_notice"
    assert stale.json()["details"]["field"] == "risk_notice_sha256"

    approved = client.post(
        f"{BASE}/authorizations/{aid}/approve",
        json={"risk_notice_sha256": notice["sha256"]},
        headers=keys["firm"],
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"
    assert approved.json()["risk_notice_sha256"] == notice["sha256"]
    assert approved.json()["approval_channel"] == "api"

    def active() -> Any:
        return service.active_authorization(
            session,
            institution_code=BANK,
            uscc=FIRM,
            item_code="tax_payment",
            purpose=Purpose.pre_loan,
            mode="view",
            at=utcnow(),
        )

    assert active() is not None
    evidence = client.get(f"{BASE}/authorizations/{aid}/evidence", headers=keys["bank"]).json()
    assert evidence["verified"] is True
    assert evidence["record"]["risk_notice_sha256"] == notice["sha256"]
    key = client.get(f"{BASE}/evidence-key").json()
    assert key["public_key"] == evidence["public_key"]

    revoked = client.post(
        f"{BASE}/authorizations/{aid}/revoke", json={"reason": "贷款已结清"}, headers=keys["firm"]
    )
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert active() is None
    detail = client.get(f"{BASE}/authorizations/{aid}", headers=keys["bank"]).json()
    assert [e["action"] for e in detail["events"]] == ["request", "approve", "revoke"]
    assert detail["events"][-1]["reason"] == "贷款已结清"
    again = client.post(f"{BASE}/authorizations/{aid}/revoke", headers=keys["firm"])
    assert again.status_code == 409
    assert again.json()["error"] == "invalid_transition"


def test_pause_resume_and_reject_over_http(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    aid = _request(client, keys)
    sha = client.get(f"{BASE}/notice").json()["sha256"]
    client.post(
        f"{BASE}/authorizations/{aid}/approve",
        json={"risk_notice_sha256": sha},
        headers=keys["firm"],
    )
    paused = client.post(f"{BASE}/authorizations/{aid}/pause", headers=keys["firm"])
    assert paused.json()["status"] == "paused"
    resumed = client.post(f"{BASE}/authorizations/{aid}/resume", headers=keys["firm"])
    assert resumed.json()["status"] == "active"
    other = _request(client, keys)
    rejected = client.post(
        f"{BASE}/authorizations/{other}/reject", json={"reason": "no"}, headers=keys["firm"]
    )
    assert rejected.json()["status"] == "rejected"
    listed = client.get(
        f"{BASE}/authorizations", params={"status": ["active", "rejected"]}, headers=keys["firm"]
    ).json()
    assert {a["id"] for a in listed["items"]} == {aid, other}


def test_scoping_institutions_enterprises_staff_and_providers(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    mine = _request(client, keys)
    theirs = client.post(
        f"{BASE}/authorizations",
        json=_body(uscc=OTHER_FIRM),
        headers=keys["other_bank"],
    ).json()["id"]

    def ids(who: str, **params: Any) -> set[str]:
        r = client.get(f"{BASE}/authorizations", params=params, headers=keys[who])
        assert r.status_code == 200, r.text
        return {a["id"] for a in r.json()["items"]}

    assert ids("bank") == {mine}
    assert ids("bank", institution=OTHER_BANK) == {mine}  # the filter cannot widen the scope
    assert ids("other_bank") == {theirs}
    assert ids("firm") == {mine}
    assert ids("firm", uscc=OTHER_FIRM) == {mine}
    assert ids("other_firm") == {theirs}
    assert ids("operator") >= {mine, theirs}
    assert ids("regulator", uscc=OTHER_FIRM) == {theirs}

    for who, aid in (("other_bank", mine), ("bank", theirs), ("other_firm", mine)):
        for path in ("", "/notice", "/evidence"):
            r = client.get(f"{BASE}/authorizations/{aid}{path}", headers=keys[who])
            assert r.status_code == 404, (who, path)
            assert r.json()["error"] == "authorization_not_found"
    assert client.get(f"{BASE}/authorizations/{mine}", headers=keys["operator"]).status_code == 200

    provider = client.get(f"{BASE}/authorizations", headers=keys["provider"])
    assert provider.status_code == 403
    assert client.get(f"{BASE}/authorizations/{mine}", headers=keys["provider"]).status_code == 403
    assert client.get(f"{BASE}/authorizations").status_code == 401


def test_only_the_subject_enterprise_decides(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    aid = _request(client, keys)
    sha = client.get(f"{BASE}/notice").json()["sha256"]
    body = {"risk_notice_sha256": sha}
    other = client.post(
        f"{BASE}/authorizations/{aid}/approve", json=body, headers=keys["other_firm"]
    )
    assert other.status_code == 404
    for who in ("bank", "operator", "regulator", "provider"):
        r = client.post(f"{BASE}/authorizations/{aid}/approve", json=body, headers=keys[who])
        assert r.status_code == 403, who
        assert r.json()["error"] == "forbidden"
    for action in ("reject", "revoke", "pause", "resume", "reconfirm"):
        r = client.post(f"{BASE}/authorizations/{aid}/{action}", headers=keys["bank"])
        assert r.status_code == 403, action
    assert client.get(f"{BASE}/authorizations/pending", headers=keys["bank"]).status_code == 403


def test_only_institutions_request(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    for who in ("firm", "operator", "regulator", "provider"):
        r = client.post(f"{BASE}/authorizations", json=_body(), headers=keys[who])
        assert r.status_code == 403, who


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"items": ["nope"]}, 422, "items[0]"),
        ({"items": ["registration"]}, 422, "items[0]"),
        ({"purpose": "supervision"}, 422, "purpose"),
        ({"valid_until": (utcnow() + timedelta(days=45)).isoformat()}, 422, "valid_until"),
        ({"data_from_date": "2025-01-02", "data_to_date": "2025-01-01"}, 422, "data_to_date"),
        ({"valid_until": "2026-05-01T00:00:00"}, 422, "valid_until"),
        ({"uscc": "12345"}, 422, "body.uscc"),
        ({"items": []}, 422, "body.items"),
        ({"access_mode": "stream"}, 422, "body.access_mode"),
        ({"extra": 1}, 422, "body.extra"),
    ],
)
def test_bad_requests_name_the_field(
    client: TestClient,
    keys: dict[str, dict[str, str]],
    overrides: dict[str, Any],
    status: int,
    field: str,
) -> None:
    r = client.post(f"{BASE}/authorizations", json=_body(**overrides), headers=keys["bank"])
    assert r.status_code == status, r.text
    details = r.json()["details"]
    fields = [d["field"] for d in details] if isinstance(details, list) else [details["field"]]
    assert field in fields


def test_purposes_and_notice_are_public_reference(client: TestClient) -> None:
    purposes = client.get(f"{BASE}/purposes").json()
    caps = {p["purpose"]: p["max_validity_days"] for p in purposes["purposes"]}
    assert caps["pre_loan"] <= 30
    assert caps["in_loan"] <= 90
    notice = client.get(f"{BASE}/notice").json()
    assert len(notice["sha256"]) == 64
    assert notice["effective_date"] <= date.today().isoformat()
