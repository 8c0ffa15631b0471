"""``POST /api/v1/verify`` through the app (TestClient), with the provider services reachable
over real HTTP, the client built by the app's lifespan from the endpoints file, and the real
policy decision point finding real enterprise authorizations (``grant``). A transparent spy on
``policy.require`` records how the route called it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog.testing
from app_support import use_test_session
from fastapi.testclient import TestClient
from institution_factories import institution_token, onboard
from provider_factories import (
    CERTIFICATE,
    FIRM_A,
    FIRM_NONE,
    SECRET_VALUES,
    Providers,
    free_port,
    grant,
)
from record_factories import create_record
from sqlalchemy.orm import Session

from rongxin.access import policy
from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind, Purpose
from rongxin.app import create_app
from rongxin.config import Settings


@contextmanager
def _app(settings: Settings, session: Session, endpoints: Path | None) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"provider_endpoints_path": endpoints}))
    use_test_session(app, session)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def api(settings: Settings, session: Session, providers: Providers) -> Iterator[TestClient]:
    with _app(settings, session, providers.endpoints_path) as client:
        yield client


@pytest.fixture
def policy_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every call of ``policy.require`` (delegated to the real one)."""
    calls: list[dict[str, Any]] = []
    real = policy.require

    def require(session: Session, **kwargs: Any) -> policy.Decision:
        calls.append({**kwargs, "item": kwargs["item"].code})
        return real(session, **kwargs)

    monkeypatch.setattr(policy, "require", require)
    return calls


@pytest.fixture
def granted(session: Session) -> str:
    """bank-fz may verify FIRM_A's tax payments, real estate and social insurance (pre-loan,
    data of 2024-01-01 … 2025-12-31), and FIRM_NONE's real estate."""
    grant(session, uscc=FIRM_NONE, items=["real_estate"])
    return grant(session, uscc=FIRM_A, items=["tax_payment", "real_estate", "social_insurance"]).id


def _bearer(session: Session, kind: PrincipalKind = PrincipalKind.institution,
            code: str = "bank-fz") -> dict[str, str]:  # fmt: skip
    """An onboarded, active institution's key (or another kind's key)."""
    if kind is PrincipalKind.institution:
        return {"Authorization": f"Bearer {institution_token(session, code)}"}
    key = access_service.create_api_key(session, kind=kind, code=code)
    return {"Authorization": f"Bearer {key.token}"}


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uscc": FIRM_A,
        "item": "tax_payment",
        "purpose": "pre_loan",
        "date_from": "2025-01-01",
        "date_to": "2025-12-31",
        "claims": [
            {"field": "tax_paid", "op": "gte", "value": 30000, "aggregate": "sum"},
            {"field": "tax_paid", "op": "eq", "value": 1000.37},
            {"field": "tax_paid", "op": "eq", "value": 1000.38},
        ],
    }
    body.update(overrides)
    return body


def _outcomes(response: Any) -> list[str]:
    return [r["outcome"] for r in response.json()["results"]]


def test_an_interface_item_is_verified_by_the_provider(
    api: TestClient, session: Session, policy_calls: list[dict[str, Any]], granted: str
) -> None:
    with structlog.testing.capture_logs() as events:
        response = api.post("/api/v1/verify", json=_body(), headers=_bearer(session))
    assert response.status_code == 200, response.text
    result = response.json()
    assert _outcomes(response) == ["in_range", "match", "no_match"]
    assert (result["source"], result["provider"], result["authorization_id"]) == (
        "provider",
        "sat",
        granted,
    )
    assert result["item_name"] == "纳税申报及缴纳"
    (call,) = policy_calls
    assert call["mode"] is policy.AccessMode.verify
    assert (call["uscc"], call["item"], call["purpose"]) == (
        FIRM_A,
        "tax_payment",
        Purpose.pre_loan,
    )
    assert call["principal"].code == "bank-fz"
    for value in SECRET_VALUES:
        assert value not in response.text
    (logged,) = [e for e in events if e["event"] == "verify"]
    assert logged["authorization_id"] == granted
    assert logged["outcomes"] == ["in_range", "match", "no_match"]
    assert any(e["event"] == "provider_call" for e in events)
    for value in (*SECRET_VALUES, "30000", "1000.38"):
        assert value not in repr(events)


def test_a_verification_item_is_verified_by_its_department(
    api: TestClient, session: Session, policy_calls: list[dict[str, Any]], granted: str
) -> None:
    claims = [
        {"field": "certificate_no", "op": "eq", "value": CERTIFICATE},
        {"field": "area", "op": "range", "low": 1000, "high": 2000},
        {"field": "encumbrance", "op": "eq", "value": "无"},
    ]
    body = _body(item="real_estate", claims=claims, date_from=None, date_to=None)
    response = api.post("/api/v1/verify", json=body, headers=_bearer(session))
    assert response.status_code == 200, response.text
    assert _outcomes(response) == ["match", "in_range", "no_match"]
    assert response.json()["provider"] == "mnr"
    nobody = api.post("/api/v1/verify", json={**body, "uscc": FIRM_NONE}, headers=_bearer(session))
    assert _outcomes(nobody) == ["no_data", "no_data", "no_data"]
    for value in SECRET_VALUES:
        assert value not in response.text + nobody.text


def test_a_physical_item_is_compared_with_the_current_record(
    api: TestClient, session: Session, policy_calls: list[dict[str, Any]], granted: str
) -> None:
    for period, count in (("2025-05", 37), ("2025-06", 41)):
        create_record(session, item_code="social_insurance", uscc=FIRM_A,
                      payload={"period": period, "insured_count": count, "amount_due": 5123.45,
                               "amount_paid": 5123.45, "arrears_months": 0})  # fmt: skip
    claims = [
        {"field": "insured_count", "op": "range", "low": 40, "high": 50, "aggregate": "latest"},
        {"field": "insured_count", "op": "gte", "value": 40, "aggregate": "all"},
        {"field": "amount_paid", "op": "eq", "value": 10246.9, "aggregate": "sum"},
    ]
    body = _body(item="social_insurance", claims=claims)
    response = api.post("/api/v1/verify", json=body, headers=_bearer(session))
    assert response.status_code == 200, response.text
    assert response.json()["source"] == "platform"
    assert _outcomes(response) == ["in_range", "out_of_range", "match"]
    assert "5123.45" not in response.text
    assert policy_calls[0]["mode"] is policy.AccessMode.verify


def test_the_policy_decides_before_anything_is_asked(
    api: TestClient, session: Session, policy_calls: list[dict[str, Any]], granted: str,
    providers: Providers,
) -> None:  # fmt: skip
    before = providers.sat.log_text().count("provider_verify")
    other_bank = _bearer(session, code="bank-other")
    response = api.post("/api/v1/verify", json=_body(), headers=other_bank)
    assert response.status_code == 403
    assert "needs the enterprise's authorization" in response.json()["message"]
    assert len(policy_calls) == 1
    not_granted = _body(item="tax_credit_rating",
                        claims=[{"field": "grade", "op": "eq", "value": "A"}])  # fmt: skip
    response = api.post("/api/v1/verify", json=not_granted, headers=_bearer(session))
    assert response.status_code == 403
    # a provider logs each call before it answers: had it been asked, the line would be there
    assert providers.sat.log_text().count("provider_verify") == before


def test_a_view_authorization_of_another_purpose_does_not_cover_verification(
    api: TestClient, session: Session, policy_calls: list[dict[str, Any]]
) -> None:
    grant(session, uscc=FIRM_A, items=["tax_payment"], purpose="in_loan", access_mode="view")
    response = api.post("/api/v1/verify", json=_body(), headers=_bearer(session))
    assert response.status_code == 403  # granted for in_loan, asked for pre_loan
    response = api.post("/api/v1/verify", json=_body(purpose="in_loan"), headers=_bearer(session))
    assert response.status_code == 200, response.text


def test_the_authorizations_data_date_range_bounds_what_is_checked(
    api: TestClient, session: Session, policy_calls: list[dict[str, Any]], granted: str
) -> None:
    """The grant covers 2024-01-01 … 2025-12-31: the March 2026 payment is never counted."""
    total = [{"field": "tax_paid", "op": "range", "low": 33001.27, "high": 33001.27,
              "aggregate": "sum"}]  # fmt: skip
    unbounded = _body(claims=total, date_from=None, date_to="2026-12-31")
    response = api.post("/api/v1/verify", json=unbounded, headers=_bearer(session))
    assert response.status_code == 200, response.text
    assert _outcomes(response) == ["in_range"]  # 1000.37 + 2000.29 + 30000.61
    outside = _body(date_from="2026-01-01", date_to="2026-06-30")
    response = api.post("/api/v1/verify", json=outside, headers=_bearer(session))
    assert response.status_code == 403
    assert response.json()["details"]["field"] == "date_from"
    assert "2024-01-01" in response.json()["message"]


def test_a_cited_authorization_must_be_the_one_that_applies(
    api: TestClient, session: Session, policy_calls: list[dict[str, Any]], granted: str
) -> None:
    ok = api.post("/api/v1/verify", json=_body(authorization_id=granted), headers=_bearer(session))
    assert ok.status_code == 200
    other = api.post("/api/v1/verify", json=_body(authorization_id="auth-12"),
                     headers=_bearer(session))  # fmt: skip
    assert other.status_code == 403
    assert other.json()["details"]["field"] == "authorization_id"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"claims": [{"field": "grade", "op": "eq", "value": "A"}]}, 422, "claims[0].field"),
        ({"claims": [{"field": "tax_type", "op": "lte", "value": "增值税"}]}, 422, "claims[0].op"),
        ({"claims": [{"field": "tax_paid", "op": "range", "low": 5}]}, 422, "claims[0].high"),
        ({"where": {"tax_kind": "增值税"}}, 422, "where.tax_kind"),
        ({"item": "no_such_item"}, 422, "item"),
        ({"uscc": "91350100M000100Y4X"}, 422, "uscc"),
        ({"date_from": "2026-01-01"}, 422, "date_from"),
    ],
)
def test_bad_input_names_the_field(
    api: TestClient, session: Session, policy_calls: list[dict[str, Any]], granted: str,
    change: dict[str, Any], status: int, field: str,
) -> None:  # fmt: skip
    response = api.post("/api/v1/verify", json=_body(**change), headers=_bearer(session))
    assert response.status_code == status, response.text
    assert response.json()["details"]["field"] == field
    assert policy_calls == []  # rejected before the policy is asked


def test_malformed_bodies_name_the_field(
    api: TestClient, session: Session, policy_calls: list[dict[str, Any]], granted: str
) -> None:
    response = api.post("/api/v1/verify", json=_body(claims=[]), headers=_bearer(session))
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "body.claims"
    response = api.post("/api/v1/verify", json=_body(purpose="marketing"), headers=_bearer(session))
    assert response.json()["details"][0]["field"] == "body.purpose"
    bad_op = _body(claims=[{"field": "tax_paid", "op": "approx", "value": 1}])
    response = api.post("/api/v1/verify", json=bad_op, headers=_bearer(session))
    assert response.json()["details"][0]["field"] == "body.claims.0.op"


def test_only_institutions_may_verify(
    api: TestClient, session: Session, policy_calls: list[dict[str, Any]], granted: str
) -> None:
    assert api.post("/api/v1/verify", json=_body()).status_code == 401
    for kind in (PrincipalKind.provider, PrincipalKind.regulator):
        response = api.post("/api/v1/verify", json=_body(), headers=_bearer(session, kind, "x"))
        assert response.status_code == 403
    assert policy_calls == []


def test_an_unreachable_provider_answers_503(
    settings: Settings, session: Session, granted: str, tmp_path: Path, providers: Providers,
) -> None:  # fmt: skip
    endpoints = tmp_path / "endpoints.yaml"
    endpoints.write_text(
        "providers:\n"
        f"  sat: {{base_url: 'http://127.0.0.1:{free_port()}', "
        f"secret_file: {providers.secret_file}}}\n",
        encoding="utf-8",
    )
    with _app(settings, session, endpoints) as client:
        response = client.post("/api/v1/verify", json=_body(), headers=_bearer(session))
    assert response.status_code == 503
    assert response.json()["error"] == "provider_unavailable"
    assert response.json()["details"] == {"provider": "sat", "reason": "unreachable"}


def test_without_an_endpoints_file_providers_are_not_configured(
    settings: Settings, session: Session, policy_calls: list[dict[str, Any]], granted: str
) -> None:
    with _app(settings, session, None) as client:
        response = client.post("/api/v1/verify", json=_body(), headers=_bearer(session))
    assert response.status_code == 503
    assert response.json()["details"]["reason"] == "not_configured"


def test_the_institution_must_be_approved_for_the_purpose_and_within_quota(
    api: TestClient, session: Session, policy_calls: list[dict[str, Any]]
) -> None:
    onboard(session, "bank-small", purposes=[Purpose.pre_loan], daily_quota=1)
    key = access_service.create_api_key(session, kind=PrincipalKind.institution, code="bank-small")
    headers = {"Authorization": f"Bearer {key.token}"}
    grant(session, uscc=FIRM_A, items=["tax_payment"], institution="bank-small",
          purpose="post_loan", access_mode="verify_only")  # fmt: skip
    refused = api.post("/api/v1/verify", json=_body(purpose="post_loan"), headers=headers)
    assert refused.status_code == 403
    assert "not approved for purpose post_loan" in refused.json()["message"]
    assert policy_calls == []  # refused at the request level, before any item is decided
    grant(session, uscc=FIRM_A, items=["tax_payment"], institution="bank-small")
    first = api.post("/api/v1/verify", json=_body(), headers=headers)
    assert first.status_code == 200, first.text
    second = api.post("/api/v1/verify", json=_body(), headers=headers)
    assert second.status_code == 429
    assert "Retry-After" in second.headers
