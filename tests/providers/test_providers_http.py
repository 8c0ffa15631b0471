"""The provider service over real HTTP (``rongxin provider serve`` processes) and the
platform's ``HttpProviderClient``: queries, verification, signatures, replays and failures."""

from __future__ import annotations

import json
import time
from datetime import date

import httpx2
import pytest
from provider_factories import (
    CERTIFICATE,
    FIRM_A,
    FIRM_B,
    FIRM_NONE,
    SECRET,
    SECRET_VALUES,
    Providers,
    endpoint,
    free_port,
)

from rongxin.access.schemas import Purpose
from rongxin.providers import signing
from rongxin.providers.client import HttpProviderClient
from rongxin.providers.errors import ProviderUnavailable
from rongxin.providers.schemas import (
    Claim,
    ClaimAggregate,
    ClaimOp,
    ClaimOutcome,
    ProviderQuery,
    ProviderVerify,
)


def _query(**overrides: object) -> ProviderQuery:
    values: dict[str, object] = {
        "item": "tax_payment",
        "uscc": FIRM_A,
        "purpose": Purpose.pre_loan,
        "institution": "bank-fz",
        "authorization_id": "auth-001",
        "authorization_ref": "sha256:evidence",
    }
    values.update(overrides)
    return ProviderQuery.model_validate(values)


def _verify(claims: list[dict[str, object]], **overrides: object) -> ProviderVerify:
    values: dict[str, object] = {
        "item": "tax_payment",
        "uscc": FIRM_A,
        "purpose": Purpose.pre_loan,
        "authorization_id": "auth-001",
        "claims": claims,
    }
    values.update(overrides)
    return ProviderVerify.model_validate(values)


def _outcomes(client: HttpProviderClient, provider: str, request: ProviderVerify) -> list[str]:
    return [r.outcome.value for r in client.verify(provider=provider, request=request).results]


def _signed_post(url: str, body: bytes, *, secret: bytes = SECRET, path: str = "/verify",
                 headers: dict[str, str] | None = None) -> httpx2.Response:  # fmt: skip
    signed = headers or signing.sign_headers(secret, method="POST", path=path, body=body)
    return httpx2.post(
        url + path,
        content=body,
        headers={"Content-Type": "application/json", **signed},
        trust_env=False,
        timeout=10,
    )


# ---- query (接口调用) ---------------------------------------------------------------------------


def test_query_returns_the_records_within_the_date_range(
    provider_client: HttpProviderClient,
) -> None:
    answer = provider_client.query(
        provider="sat",
        request=_query(date_from=date(2025, 3, 1), date_to=date(2025, 12, 31)),
    )
    assert answer.provider == "sat"
    assert answer.uscc == FIRM_A
    assert [(r["period"], r["tax_paid"]) for r in answer.records] == [
        ("2025-06", 2000.29),
        ("2025-12", 30000.61),
    ]
    assert answer.records[1]["taxable_revenue"] is None
    assert answer.records[1]["declared_on_time"] is False


def test_query_returns_only_the_requested_fields(provider_client: HttpProviderClient) -> None:
    answer = provider_client.query(
        provider="sat", request=_query(item="tax_credit_rating", fields=["grade"])
    )
    assert answer.fields == ["uscc", "grade"]
    assert answer.records == [{"uscc": FIRM_A, "grade": "A"}, {"uscc": FIRM_A, "grade": "B"}]


def test_query_of_an_entity_without_data_is_empty(provider_client: HttpProviderClient) -> None:
    assert provider_client.query(provider="sat", request=_query(uscc=FIRM_NONE)).records == []


def test_a_verification_only_item_is_never_queried(
    provider_client: HttpProviderClient, providers: Providers
) -> None:
    with pytest.raises(ProviderUnavailable) as caught:
        provider_client.query(provider="mnr", request=_query(item="real_estate"))
    assert caught.value.details["reason"] == "refused"
    assert caught.value.details["provider_status"] == 403
    assert "verification only" in caught.value.message
    body = _query(item="real_estate").model_dump_json().encode()
    raw = _signed_post(providers.mnr.url, body, path="/query")
    assert raw.status_code == 403
    assert raw.json()["error"] == "mode_not_allowed"
    assert "0012345" not in raw.text


def test_query_names_an_unknown_field(providers: Providers) -> None:
    body = _query(fields=["grade", "tax_paid"]).model_dump_json().encode()
    response = _signed_post(providers.sat.url, body, path="/query")
    assert response.status_code == 422
    assert response.json()["details"]["field"] == "fields[0]"
    assert "no field 'grade'" in response.json()["message"]


def test_an_uncited_authorization_is_refused(providers: Providers) -> None:
    body = _query(authorization_id=None).model_dump_json().encode()
    response = _signed_post(providers.sat.url, body, path="/query")
    assert response.status_code == 403
    assert response.json()["details"]["field"] == "authorization_id"


# ---- verify (数据核验) --------------------------------------------------------------------------


def test_verify_eq_and_no_data(provider_client: HttpProviderClient) -> None:
    claims = [
        {"field": "certificate_no", "op": "eq", "value": CERTIFICATE},
        {"field": "certificate_no", "op": "eq", "value": "闽(2024)福州市不动产权第9999999号"},
        {"field": "encumbrance", "op": "eq", "value": "无"},
        {"field": "property_type", "op": "eq", "value": "房屋所有权"},
    ]
    verdict = provider_client.verify(provider="mnr", request=_verify(claims, item="real_estate"))
    assert [r.outcome for r in verdict.results] == [
        ClaimOutcome.match,
        ClaimOutcome.no_match,
        ClaimOutcome.no_match,
        ClaimOutcome.match,
    ]
    assert [r.index for r in verdict.results] == [0, 1, 2, 3]
    nobody = _verify(claims[:1], item="real_estate", uscc=FIRM_NONE)
    assert _outcomes(provider_client, "mnr", nobody) == ["no_data"]


def test_verify_ranges_and_sums(provider_client: HttpProviderClient) -> None:
    claims = [
        # annual tax paid in 2025: 1000.37 + 2000.29 + 30000.61 = 33001.27
        {"field": "tax_paid", "op": "range", "low": 30000, "high": 40000, "aggregate": "sum"},
        {"field": "tax_paid", "op": "gte", "value": 50000, "aggregate": "sum"},
        {"field": "tax_paid", "op": "lte", "value": 33001.27, "aggregate": "sum"},
        {"field": "tax_paid", "op": "eq", "value": 2000.29},
        {"field": "declared_on_time", "op": "eq", "value": True, "aggregate": "all"},
        {"field": "period", "op": "eq", "value": "2025-12", "aggregate": "latest"},
    ]
    request = _verify(claims, date_from=date(2025, 1, 1), date_to=date(2025, 12, 31))
    assert _outcomes(provider_client, "sat", request) == [
        "in_range",
        "out_of_range",
        "in_range",
        "match",
        "no_match",
        "match",
    ]


def test_verify_with_a_record_filter(provider_client: HttpProviderClient) -> None:
    claims = [{"field": "tax_paid", "op": "gte", "value": 5000, "aggregate": "sum"}]
    vat = _verify(claims, where={"tax_type": "增值税"}, date_to=date(2025, 12, 31))
    income = _verify(claims, where={"tax_type": "企业所得税"})
    assert _outcomes(provider_client, "sat", vat) == ["out_of_range"]  # 1000.37 + 2000.29
    assert _outcomes(provider_client, "sat", income) == ["in_range"]
    other = _verify(claims, uscc=FIRM_B, where={"tax_type": "企业所得税"})
    assert _outcomes(provider_client, "sat", other) == ["no_data"]


def test_verify_answers_carry_no_values(providers: Providers) -> None:
    body = (
        _verify(
            [
                {"field": "tax_paid", "op": "eq", "value": 1.0},
                {"field": "tax_paid", "op": "range", "low": 0, "high": 10, "aggregate": "sum"},
            ]
        )
        .model_dump_json()
        .encode()
    )
    response = _signed_post(providers.sat.url, body)
    assert response.status_code == 200
    for value in SECRET_VALUES:
        assert value not in response.text
    assert set(response.json()["results"][0]) == {"index", "field", "op", "aggregate", "outcome"}


def test_bad_claims_name_the_field(providers: Providers) -> None:
    cases = [
        ({"field": "grade", "op": "eq", "value": "A"}, "claims[0].field"),
        ({"field": "tax_type", "op": "gte", "value": "增值税"}, "claims[0].op"),
        ({"field": "tax_paid", "op": "range", "low": 1}, "claims[0].high"),
        ({"field": "tax_paid", "op": "eq", "value": "lots"}, "claims[0].value"),
        ({"field": "tax_type", "op": "eq", "value": "营业税"}, "claims[0].value"),
        ({"field": "tax_type", "op": "eq", "value": "增值税", "aggregate": "sum"},
         "claims[0].aggregate"),
    ]  # fmt: skip
    for claim, field in cases:
        body = _verify([claim]).model_dump_json().encode()
        response = _signed_post(providers.sat.url, body)
        assert response.status_code == 422, claim
        assert response.json()["details"]["field"] == field, response.text
        assert field in response.json()["message"]


def test_a_malformed_body_names_the_field(providers: Providers) -> None:
    body = json.dumps({"item": "tax_payment", "uscc": FIRM_A, "purpose": "pre_loan"}).encode()
    response = _signed_post(providers.sat.url, body)
    assert response.status_code == 422
    assert response.json()["details"]["problems"][0]["field"] == "claims"
    response = _signed_post(providers.sat.url, b"{not json")
    assert response.status_code == 422


def test_unknown_item_and_bad_uscc(providers: Providers) -> None:
    body = _verify([{"field": "tax_paid", "op": "eq", "value": 1}], item="social_insurance")
    response = _signed_post(providers.sat.url, body.model_dump_json().encode())
    assert response.status_code == 404
    assert response.json()["error"] == "item_not_served"
    body = _verify([{"field": "tax_paid", "op": "eq", "value": 1}], uscc="91350100M000100Y4X")
    response = _signed_post(providers.sat.url, body.model_dump_json().encode())
    assert response.status_code == 422
    assert response.json()["details"]["field"] == "uscc"


# ---- signatures and replays ---------------------------------------------------------------------


def test_a_bad_signature_is_rejected(providers: Providers) -> None:
    body = _verify([{"field": "tax_paid", "op": "eq", "value": 1}]).model_dump_json().encode()
    response = _signed_post(providers.sat.url, body, secret=b"another-secret-0123456789")
    assert response.status_code == 401
    assert response.json()["details"]["reason"] == "bad_signature"
    unsigned = httpx2.post(providers.sat.url + "/verify", content=body, trust_env=False)
    assert unsigned.status_code == 401
    assert unsigned.json()["details"]["reason"] == "missing_headers"
    rejected = [e for e in providers.sat.log_events() if e["event"] == "provider_call_rejected"]
    assert {"bad_signature", "missing_headers"} <= {e["reason"] for e in rejected}


def test_a_signature_for_another_operation_is_rejected(providers: Providers) -> None:
    body = _query().model_dump_json().encode()
    headers = signing.sign_headers(SECRET, method="POST", path="/verify", body=body)
    response = _signed_post(providers.sat.url, body, path="/query", headers=headers)
    assert response.status_code == 401


def test_a_tampered_body_is_rejected(providers: Providers) -> None:
    body = _query().model_dump_json().encode()
    headers = signing.sign_headers(SECRET, method="POST", path="/query", body=body)
    tampered = body.replace(FIRM_A.encode(), FIRM_B.encode())
    response = _signed_post(providers.sat.url, tampered, path="/query", headers=headers)
    assert response.status_code == 401
    assert response.json()["details"]["reason"] == "bad_signature"


def test_a_replayed_nonce_is_rejected(providers: Providers) -> None:
    body = _query().model_dump_json().encode()
    headers = signing.sign_headers(SECRET, method="POST", path="/query", body=body)
    first = _signed_post(providers.sat.url, body, path="/query", headers=headers)
    assert first.status_code == 200
    again = _signed_post(providers.sat.url, body, path="/query", headers=headers)
    assert again.status_code == 401
    assert again.json()["details"]["reason"] == "replayed_nonce"


def test_a_stale_timestamp_is_rejected(providers: Providers) -> None:
    body = _query().model_dump_json().encode()
    old = time.time() - signing.MAX_SKEW_SECONDS - 60
    headers = signing.sign_headers(SECRET, method="POST", path="/query", body=body, now=old)
    response = _signed_post(providers.sat.url, body, path="/query", headers=headers)
    assert response.status_code == 401
    assert response.json()["details"]["reason"] == "stale_timestamp"


def test_the_client_maps_a_wrong_secret_to_unavailable(providers: Providers) -> None:
    wrong = endpoint("sat", providers.sat.url)
    wrong = type(wrong)(code="sat", base_url=providers.sat.url, secret=b"x" * 32)
    client = HttpProviderClient({"sat": wrong})
    with pytest.raises(ProviderUnavailable) as caught:
        client.query(provider="sat", request=_query())
    client.close()
    assert caught.value.details["reason"] == "signature_rejected"
    assert caught.value.status == 503


# ---- failures become ProviderUnavailable --------------------------------------------------------


def test_a_timeout_is_provider_unavailable(slow_url: str) -> None:
    client = HttpProviderClient({"sat": endpoint("sat", slow_url, timeout=0.2)})
    with pytest.raises(ProviderUnavailable) as caught:
        client.query(provider="sat", request=_query())
    client.close()
    assert caught.value.details == {"provider": "sat", "reason": "timeout"}
    assert "did not answer within 0.2 s" in caught.value.message


def test_a_provider_that_is_down_is_unavailable() -> None:
    client = HttpProviderClient({"sat": endpoint("sat", f"http://127.0.0.1:{free_port()}")})
    with pytest.raises(ProviderUnavailable) as caught:
        client.verify(provider="sat", request=_verify([{"field": "tax_paid", "op": "eq",
                                                         "value": 1}]))  # fmt: skip
    client.close()
    assert caught.value.details["reason"] == "unreachable"


def test_an_unconfigured_provider_is_unavailable(provider_client: HttpProviderClient) -> None:
    with pytest.raises(ProviderUnavailable) as caught:
        provider_client.query(provider="nfra", request=_query(item="insurance_coverage"))
    assert caught.value.details["reason"] == "not_configured"


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (500, b'{"error": "boom"}', "provider_error"),
        (502, b"<html>bad gateway</html>", "provider_error"),
        (200, b'{"records": "not a list"}', "bad_response"),
        (200, b"not json at all", "bad_response"),
    ],
)
def test_errors_and_bad_answers_are_unavailable(
    scripted_url: tuple[str, list[tuple[int, bytes]]], status: int, body: bytes, reason: str
) -> None:
    url, script = scripted_url
    script.append((status, body))
    client = HttpProviderClient({"sat": endpoint("sat", url)})
    with pytest.raises(ProviderUnavailable) as caught:
        client.query(provider="sat", request=_query())
    client.close()
    assert caught.value.details["reason"] == reason


# ---- logs ---------------------------------------------------------------------------------------


def test_calls_are_logged_without_values(
    provider_client: HttpProviderClient, providers: Providers
) -> None:
    provider_client.query(provider="sat", request=_query(authorization_id="auth-logged-1"))
    provider_client.verify(
        provider="mnr",
        request=_verify(
            [{"field": "area", "op": "range", "low": 1234.55, "high": 1234.57}],
            item="real_estate",
            authorization_id="auth-logged-2",
            where={"certificate_no": CERTIFICATE},
        ),
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "auth-logged-2" not in providers.mnr.log_text():
        time.sleep(0.05)
    sat_events = [e for e in providers.sat.log_events() if e["event"] == "provider_query"]
    logged = next(e for e in sat_events if e["authorization_id"] == "auth-logged-1")
    assert (logged["item"], logged["uscc"], logged["purpose"]) == (
        "tax_payment",
        FIRM_A,
        "pre_loan",
    )
    assert logged["institution"] == "bank-fz"
    assert logged["records"] == 4
    mnr_events = [e for e in providers.mnr.log_events() if e["event"] == "provider_verify"]
    verified = next(e for e in mnr_events if e["authorization_id"] == "auth-logged-2")
    assert verified["claims"] == ["area:range:any"]
    assert verified["filters"] == ["certificate_no"]
    assert verified["outcomes"] == ["in_range"]
    for text in (providers.sat.log_text(), providers.mnr.log_text()):
        for value in (*SECRET_VALUES, "1234.55", "1234.57", SECRET.decode()):
            assert value not in text


def test_claim_enums_are_the_protocol() -> None:
    assert [o.value for o in ClaimOutcome] == [
        "match", "no_match", "in_range", "out_of_range", "no_data",
    ]  # fmt: skip
    assert Claim(field="x", op=ClaimOp.eq, value=1).aggregate is ClaimAggregate.any
