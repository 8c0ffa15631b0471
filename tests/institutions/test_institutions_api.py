"""Onboarding routes: who may do what, the lifecycle over HTTP, clear refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from institution_factories import application, bearer, full_scores, onboard
from sqlalchemy.orm import Session

from rongxin.access.schemas import PrincipalKind
from rongxin.db.base import utcnow
from rongxin.institutions import service
from rongxin.institutions.schemas import InstitutionStatus

BASE = "/api/v1/institutions"
MakeKey = Callable[[PrincipalKind, str], str]


def _application_json(code: str = "bank-fz", seed: int = 11) -> dict[str, object]:
    return application(code, seed=seed).model_dump(mode="json")


def _scores_json() -> list[dict[str, object]]:
    return [s.model_dump(mode="json") for s in full_scores()]


@pytest.fixture
def operator(make_key: MakeKey) -> dict[str, str]:
    return bearer(make_key(PrincipalKind.operator, "ops"))


@pytest.fixture
def second_operator(make_key: MakeKey) -> dict[str, str]:
    """Another key of the operator: another person for the four-eyes rule."""
    return bearer(make_key(PrincipalKind.operator, "ops"))


def test_public_controls_and_application(client: TestClient) -> None:
    controls = client.get(f"{BASE}/controls")
    assert controls.status_code == 200
    body = controls.json()
    assert body["pass_threshold"] == 80
    assert {g["name"] for g in body["groups"]} >= {"管理制度", "数据安全", "应急响应"}
    r = client.post(f"{BASE}/applications", json=_application_json())
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "applied"
    again = client.post(f"{BASE}/applications", json=_application_json())
    assert again.status_code == 409
    bad = client.post(f"{BASE}/applications", json={**_application_json(), "uscc": "123"})
    assert bad.status_code == 422
    assert any(d["field"] == "body.uscc" for d in bad.json()["details"])


def test_lifecycle_over_http(
    client: TestClient, operator: dict[str, str], second_operator: dict[str, str]
) -> None:
    created = client.post(BASE, json=_application_json(), headers=operator)
    assert created.status_code == 201, created.text
    started = client.post(f"{BASE}/bank-fz/assessments", headers=operator)
    assert started.status_code == 201, started.text
    assessment_id = started.json()["id"]
    scored = client.put(
        f"{BASE}/bank-fz/assessments/{assessment_id}/scores",
        json={"scores": _scores_json()},
        headers=operator,
    )
    assert scored.status_code == 200, scored.text
    assert scored.json()["evaluation"]["passed"] is True
    approval = {"allowed_purposes": ["pre_loan"], "daily_quota": 20}
    same = client.post(
        f"{BASE}/bank-fz/assessments/{assessment_id}/approve", json=approval, headers=operator
    )
    assert same.status_code == 403
    assert same.json()["error"] == "four_eyes"
    approved = client.post(
        f"{BASE}/bank-fz/assessments/{assessment_id}/approve",
        json=approval,
        headers=second_operator,
    )
    assert approved.status_code == 200, approved.text
    result = approved.json()
    assert result["institution"]["status"] == "active"
    assert result["api_key"]["token"].startswith("rx_")
    bank = bearer(result["api_key"]["token"])

    own = client.get(f"{BASE}/bank-fz", headers=bank)
    assert own.status_code == 200
    assert own.json()["allowed_purposes"] == ["pre_loan"]
    assert client.get(f"{BASE}/bank-fz/quota", headers=bank).json()["daily_quota"] == 20

    suspended = client.post(
        f"{BASE}/bank-fz/suspend", json={"reason": "abuse alert"}, headers=operator
    )
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    events = client.get(f"{BASE}/bank-fz/events", headers=operator).json()
    assert [e["to_status"] for e in events] == [
        "applied",
        "under_assessment",
        "active",
        "suspended",
    ]
    again = client.post(f"{BASE}/bank-fz/suspend", json={"reason": "again"}, headers=operator)
    assert again.status_code == 409
    assert "suspended: it cannot become suspended" in again.json()["message"]
    reinstated = client.post(
        f"{BASE}/bank-fz/reinstate", json={"reason": "cleared"}, headers=operator
    )
    assert reinstated.json()["status"] == "active"
    history = client.get(f"{BASE}/bank-fz/assessments", headers=operator).json()
    assert [a["status"] for a in history] == ["approved"]


def test_approve_refusal_names_the_failed_control(
    client: TestClient, operator: dict[str, str], second_operator: dict[str, str]
) -> None:
    client.post(BASE, json=_application_json(), headers=operator)
    assessment_id = client.post(f"{BASE}/bank-fz/assessments", headers=operator).json()["id"]
    scores = [
        {**s, "score": 0} if s["control_code"] == "app_audit_log" else s for s in _scores_json()
    ]
    client.put(
        f"{BASE}/bank-fz/assessments/{assessment_id}/scores",
        json={"scores": scores},
        headers=operator,
    )
    r = client.post(
        f"{BASE}/bank-fz/assessments/{assessment_id}/approve",
        json={"allowed_purposes": ["pre_loan"]},
        headers=second_operator,
    )
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "assessment_not_passed"
    assert "app_audit_log (安全审计与日志留存) scored 0" in body["message"]
    assert body["details"]["failed_mandatory"] == ["app_audit_log"]
    bad_purpose = client.post(
        f"{BASE}/bank-fz/assessments/{assessment_id}/approve",
        json={"allowed_purposes": ["supervision"]},
        headers=second_operator,
    )
    assert bad_purpose.status_code == 422
    assert "financing only" in bad_purpose.text


def test_role_checks(
    client: TestClient, session: Session, make_key: MakeKey, operator: dict[str, str]
) -> None:
    bank_a = onboard(session, "bank-a", seed=21).api_key
    bank_b = onboard(session, "bank-b", seed=22).api_key
    assert bank_a is not None
    assert bank_b is not None
    a, b = bearer(bank_a.token), bearer(bank_b.token)
    provider = bearer(make_key(PrincipalKind.provider, "samr"))
    enterprise = bearer(make_key(PrincipalKind.enterprise, application().uscc))
    regulator = bearer(make_key(PrincipalKind.regulator, "pboc"))

    # no credentials
    assert client.get(BASE).status_code == 401
    assert client.get(f"{BASE}/bank-a").status_code == 401
    assert client.post(f"{BASE}/bank-a/suspend", json={"reason": "xx"}).status_code == 401
    # providers and enterprises see nothing
    for who in (provider, enterprise):
        assert client.get(BASE, headers=who).status_code == 403
        assert client.get(f"{BASE}/bank-a", headers=who).status_code == 403
        assert (
            client.post(f"{BASE}/bank-a/suspend", json={"reason": "x"}, headers=who).status_code
            == 403
        )
    # an institution sees only itself, and acts on nothing
    listed = client.get(BASE, headers=a).json()
    assert [i["code"] for i in listed["items"]] == ["bank-a"]
    assert client.get(f"{BASE}/bank-b", headers=a).status_code == 404
    assert client.get(f"{BASE}/bank-b/events", headers=a).status_code == 404
    assert client.get(f"{BASE}/bank-b/assessments", headers=a).status_code == 404
    assert client.get(f"{BASE}/bank-b/quota", headers=a).status_code == 404
    assert client.get(f"{BASE}/bank-a/events", headers=a).status_code == 200
    for path in ("bank-a/suspend", "bank-b/suspend", "bank-a/reinstate", "bank-a/reject"):
        assert client.post(f"{BASE}/{path}", json={"reason": "xx"}, headers=a).status_code == 403
    assert client.post(f"{BASE}/bank-a/assessments", headers=a).status_code == 403
    assert client.post(f"{BASE}/enforce-expiry", headers=b).status_code == 403
    assert client.get(f"{BASE}/due", headers=b).status_code == 403
    # regulators read everything, act on nothing
    assert client.get(BASE, headers=regulator).json()["total"] == 2
    assert client.get(f"{BASE}/bank-b", headers=regulator).status_code == 200
    assert client.get(f"{BASE}/due", headers=regulator).status_code == 200
    assert (
        client.post(f"{BASE}/bank-b/suspend", json={"reason": "xx"}, headers=regulator).status_code
        == 403
    )
    # operators act
    r = client.post(f"{BASE}/bank-b/suspend", json={"reason": "abuse"}, headers=operator)
    assert r.status_code == 200
    assert service.institution_status(session, "bank-b") is InstitutionStatus.suspended
    assert client.get(f"{BASE}?status=suspended", headers=operator).json()["total"] == 1


def test_enforce_expiry_and_due_over_http(
    client: TestClient, session: Session, operator: dict[str, str]
) -> None:
    onboard(session, "bank-fz", seed=11, at=utcnow())
    onboard(session, "bank-old", seed=12, at=utcnow() - timedelta(days=400))
    enforced = client.post(f"{BASE}/enforce-expiry", headers=operator)
    assert enforced.status_code == 200
    assert [i["code"] for i in enforced.json()] == ["bank-old"]
    assert enforced.json()[0]["status"] == "suspended"
    soon = (utcnow() + timedelta(days=320)).isoformat()
    due = client.get(f"{BASE}/due", params={"at": soon}, headers=operator)
    assert [(d["code"], d["expired"]) for d in due.json()] == [
        ("bank-old", True),
        ("bank-fz", False),
    ]
    naive = client.get(f"{BASE}/due", params={"at": "2026-12-01T00:00:00"}, headers=operator)
    assert naive.status_code == 422
    assert "time zone" in naive.json()["message"]


def test_suspension_cuts_access_at_once(
    client: TestClient, session: Session, make_key: MakeKey, operator: dict[str, str]
) -> None:
    """Through ``access.service.principal_is_active``: the very next request is refused."""
    issued = onboard(session).api_key
    assert issued is not None
    bank = bearer(issued.token)
    assert client.get(f"{BASE}/bank-fz", headers=bank).status_code == 200
    client.post(f"{BASE}/bank-fz/suspend", json={"reason": "abuse alert"}, headers=operator)
    refused = client.get(f"{BASE}/bank-fz", headers=bank)
    assert refused.status_code == 401
    assert client.get("/api/v1/push/subscriptions", headers=bank).status_code == 401
    client.post(f"{BASE}/bank-fz/reinstate", json={"reason": "cleared"}, headers=operator)
    assert client.get(f"{BASE}/bank-fz", headers=bank).status_code == 200
    # a key for an institution that never went through onboarding opens nothing
    stray = bearer(make_key(PrincipalKind.institution, "not-onboarded"))
    assert client.get(BASE, headers=stray).status_code == 401
