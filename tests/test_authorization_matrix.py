"""Every API route × every role and no credentials: zero unexpected allows (issue 4).

``EXPECTED`` states, per route, which callers may pass authentication and authorization; the
test calls each route as each of them and as an anonymous client. A caller not listed must get
401 (no credentials) or 403 (wrong role); a listed caller must not be refused as such (it may
still get 404 or 422 for the placeholder arguments used here). A route missing from the table
fails the test, so a new route cannot ship unclassified.

Public routes (the catalog, entity lookup, the report schema, consent's purposes and risk
notice, the security-control list and the application form for institutions, token and
registration endpoints that authenticate in their body) are public on purpose, as on public
credit portals (信用中国): they show no non-public information.
"""

from __future__ import annotations

import re
from typing import Final

import pytest
from entity_factories import make_uscc
from fastapi.testclient import TestClient
from institution_factories import key_headers
from sqlalchemy.orm import Session

from rongxin.access.schemas import PrincipalKind

FIRM: Final = make_uscc(seed=2024)
ANON: Final = "anonymous"
INST, OPS, REG, PROV, ENT = "institution", "operator", "regulator", "provider", "enterprise"
EVERYONE: Final = frozenset({ANON, INST, OPS, REG, PROV, ENT})
SIGNED_IN: Final = EVERYONE - {ANON}
STAFF: Final = frozenset({OPS, REG})

EXPECTED: Final[dict[str, frozenset[str]]] = {
    "GET /healthz": EVERYONE,
    "POST /api/v1/oauth/token": EVERYONE,  # the client authenticates in the request body
    "POST /api/v1/enterprises/register": EVERYONE,  # real-name registration of a person
    "GET /api/v1/catalog/items": EVERYONE,
    "GET /api/v1/catalog/items/{code}": EVERYONE,
    "GET /api/v1/catalog": EVERYONE,
    "GET /api/v1/consent/purposes": EVERYONE,
    "GET /api/v1/consent/notice": EVERYONE,
    "GET /api/v1/consent/evidence-key": EVERYONE,
    "POST /api/v1/consent/authorizations": frozenset({INST}),
    "GET /api/v1/consent/authorizations": frozenset({INST, ENT}) | STAFF,
    "GET /api/v1/consent/authorizations/pending": frozenset({ENT}),
    "GET /api/v1/consent/authorizations/{authorization_id}": frozenset({INST, ENT}) | STAFF,
    "GET /api/v1/consent/authorizations/{authorization_id}/notice": frozenset({INST, ENT}) | STAFF,
    "POST /api/v1/consent/authorizations/{authorization_id}/approve": frozenset({ENT}),
    "POST /api/v1/consent/authorizations/{authorization_id}/reject": frozenset({ENT}),
    "POST /api/v1/consent/authorizations/{authorization_id}/revoke": frozenset({ENT}),
    "POST /api/v1/consent/authorizations/{authorization_id}/pause": frozenset({ENT}),
    "POST /api/v1/consent/authorizations/{authorization_id}/resume": frozenset({ENT}),
    "POST /api/v1/consent/authorizations/{authorization_id}/reconfirm": frozenset({ENT}),
    "GET /api/v1/consent/authorizations/{authorization_id}/evidence": frozenset({INST, ENT})
    | STAFF,
    "GET /api/v1/entities": EVERYONE,
    "POST /api/v1/entities/uscc-check": EVERYONE,
    "GET /api/v1/entities/{uscc}": EVERYONE,
    "POST /api/v1/ingest/{item}": frozenset({PROV}),
    "GET /api/v1/ingest/batches": frozenset({PROV}) | STAFF,
    "GET /api/v1/ingest/batches/{batch_id}": frozenset({PROV}) | STAFF,
    "GET /api/v1/ingest/quality": frozenset({PROV}) | STAFF,
    "GET /api/v1/institutions/controls": EVERYONE,
    "POST /api/v1/institutions/applications": EVERYONE,  # an applicant has no credential yet
    "GET /api/v1/institutions/due": STAFF,
    "POST /api/v1/institutions/enforce-expiry": frozenset({OPS}),
    "POST /api/v1/institutions": frozenset({OPS}),
    "GET /api/v1/institutions": frozenset({INST}) | STAFF,  # an institution: only itself
    "GET /api/v1/institutions/{code}": frozenset({INST}) | STAFF,
    "GET /api/v1/institutions/{code}/events": frozenset({INST}) | STAFF,
    "GET /api/v1/institutions/{code}/quota": frozenset({INST}) | STAFF,
    "GET /api/v1/institutions/{code}/assessments": frozenset({INST}) | STAFF,
    "POST /api/v1/institutions/{code}/assessments": frozenset({OPS}),
    "GET /api/v1/institutions/{code}/assessments/{assessment_id}": frozenset({INST}) | STAFF,
    "PUT /api/v1/institutions/{code}/assessments/{assessment_id}/scores": frozenset({OPS}),
    "POST /api/v1/institutions/{code}/assessments/{assessment_id}/approve": frozenset({OPS}),
    "POST /api/v1/institutions/{code}/reject": frozenset({OPS}),
    "POST /api/v1/institutions/{code}/suspend": frozenset({OPS}),
    "POST /api/v1/institutions/{code}/reinstate": frozenset({OPS}),
    "POST /api/v1/institutions/{code}/withdraw": frozenset({OPS}),
    "POST /api/v1/verify": frozenset({INST}),
    "POST /api/v1/push/subscriptions": frozenset({INST, OPS}),
    "GET /api/v1/push/subscriptions": frozenset({INST, OPS}),
    "GET /api/v1/push/subscriptions/{subscription_id}": frozenset({INST, OPS}),
    "DELETE /api/v1/push/subscriptions/{subscription_id}": frozenset({INST, OPS}),
    "GET /api/v1/push/subscriptions/{subscription_id}/deliveries": frozenset({INST, OPS}),
    "GET /api/v1/push/deliveries/{delivery_id}/file": frozenset({INST, OPS}),
    "POST /api/v1/push/subscriptions/{subscription_id}/pause": frozenset({OPS}),
    "POST /api/v1/push/subscriptions/{subscription_id}/resume": frozenset({OPS}),
    "GET /api/v1/reports/schema": EVERYONE,
    "GET /api/v1/reports/usage": frozenset({PROV, OPS}),
    "GET /api/v1/reports/{uscc}": frozenset({INST, ENT}) | STAFF,
    "GET /api/v1/ratings/{uscc}": frozenset({INST, ENT}) | STAFF,
    "GET /api/v1/ratings/runs": STAFF,
    "POST /api/v1/ratings/runs": frozenset({OPS}),
    "GET /api/v1/ratings/runs/{run_id}": STAFF,
    "GET /api/v1/ratings/runs/{run_id}/changes": STAFF,
    "POST /api/v1/scorecards": frozenset({INST, OPS}),
    "GET /api/v1/scorecards": frozenset({INST}) | STAFF,
    "GET /api/v1/scorecards/{model_id}": frozenset({INST}) | STAFF,
    "POST /api/v1/scorecards/{model_id}/approve": frozenset({OPS}),
    "POST /api/v1/scorecards/{model_id}/retire": frozenset({INST, OPS}),
    "GET /api/v1/rights/commitment": EVERYONE,  # the commitment text everyone may read
    "GET /api/v1/rights/commitments": frozenset({ENT}) | STAFF,
    "POST /api/v1/rights/commitments/{commitment_id}/broken": frozenset({OPS}),
    "GET /api/v1/rights/notices": frozenset({ENT}),
    "POST /api/v1/rights/notices/read": frozenset({ENT}),
    "GET /api/v1/rights/publicity": frozenset({ENT}),
    "POST /api/v1/rights/self-reports": frozenset({ENT}),
    "POST /api/v1/rights/self-reports/{item_code}/attachments": frozenset({ENT}),
    "POST /api/v1/rights/objections": frozenset({ENT}),
    "GET /api/v1/rights/objections": frozenset({ENT, PROV}) | STAFF,
    "GET /api/v1/rights/objections/{objection_id}": frozenset({ENT, PROV}) | STAFF,
    "POST /api/v1/rights/objections/{objection_id}/attachments": frozenset({ENT}),
    "POST /api/v1/rights/objections/{objection_id}/accept": frozenset({OPS}),
    "POST /api/v1/rights/objections/{objection_id}/reject": frozenset({OPS}),
    "POST /api/v1/rights/objections/{objection_id}/withdraw": frozenset({ENT}),
    "POST /api/v1/rights/objections/{objection_id}/answer": frozenset({PROV}),
    "POST /api/v1/rights/repairs": frozenset({ENT}),
    "GET /api/v1/rights/repairs": frozenset({ENT, PROV}) | STAFF,
    "GET /api/v1/rights/repairs/{application_id}": frozenset({ENT, PROV}) | STAFF,
    "POST /api/v1/rights/repairs/{application_id}/attachments": frozenset({ENT}),
    "POST /api/v1/rights/repairs/{application_id}/review": frozenset({PROV, OPS}),
    "POST /api/v1/rights/repairs/{application_id}/withdraw": frozenset({ENT}),
    "GET /api/v1/rights/attachments/{attachment_id}": frozenset({ENT, PROV}) | STAFF,
    "GET /api/v1/rights/deadlines": STAFF,
    "POST /api/v1/rights/sweep": frozenset({OPS}),
    "POST /api/v1/scorecards/{model_id}/score": frozenset({INST}),
    "GET /api/v1/audit/entries": frozenset({PROV, ENT}) | STAFF,
    "GET /api/v1/audit/verify": STAFF,
    "GET /api/v1/monitoring/alerts": STAFF,
    "GET /api/v1/monitoring/alerts/{alert_id}": STAFF,
    "POST /api/v1/monitoring/alerts/{alert_id}/acknowledge": frozenset({OPS}),
    "POST /api/v1/monitoring/alerts/{alert_id}/close": frozenset({OPS}),
    "POST /api/v1/monitoring/scan": frozenset({OPS}),
}

#: placeholder path arguments: well-formed, naming nothing that exists (so 404 is fine)
PATH_VALUES: Final = {
    "uscc": FIRM,
    "code": "bank-matrix",
    "item": "admin_penalty",
    "authorization_id": "0" * 32,
    "assessment_id": "0" * 32,
    "batch_id": "0" * 32,
    "subscription_id": "0" * 32,
    "delivery_id": "0" * 32,
    "alert_id": "0" * 32,
    "run_id": "0" * 32,
    "model_id": "0" * 32,
    "commitment_id": "0" * 32,
    "objection_id": "0" * 32,
    "application_id": "0" * 32,
    "attachment_id": "0" * 32,
    "item_code": "self_statement",
}

#: query parameters some routes need before authorization can be judged
QUERY: Final = {
    "/api/v1/reports/{uscc}": {"purpose": "pre_loan"},
    "/api/v1/ratings/{uscc}": {"purpose": "pre_loan"},
}


def _routes(client: TestClient) -> list[tuple[str, str]]:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted((method.upper(), path) for path, ops in paths.items() for method in ops)


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)
    params = QUERY.get(path, {})
    if method in ("POST", "PUT", "PATCH"):
        response = client.request(method, url, params=params, json={}, headers=headers)
    else:
        response = client.request(method, url, params=params, headers=headers)
    return response.status_code


def test_every_route_is_classified(client: TestClient) -> None:
    routes = {f"{m} {p}" for m, p in _routes(client)}
    assert sorted(routes - set(EXPECTED)) == []  # new routes must be added to the matrix
    assert sorted(set(EXPECTED) - routes) == []  # and the matrix has no stale rows


@pytest.fixture
def credentials(session: Session) -> dict[str, dict[str, str]]:
    return {
        ANON: {},
        INST: key_headers(session, PrincipalKind.institution, "bank-matrix"),
        OPS: key_headers(session, PrincipalKind.operator, "ops-matrix"),
        REG: key_headers(session, PrincipalKind.regulator, "pboc-matrix"),
        PROV: key_headers(session, PrincipalKind.provider, "samr"),
        ENT: key_headers(session, PrincipalKind.enterprise, FIRM),
    }


def test_no_unexpected_allows(client: TestClient, credentials: dict[str, dict[str, str]]) -> None:
    unexpected: list[str] = []
    wrongly_refused: list[str] = []
    for method, path in _routes(client):
        allowed = EXPECTED[f"{method} {path}"]
        for role, headers in credentials.items():
            status = _call(client, method, path, headers)
            if role not in allowed and status not in (401, 403):
                unexpected.append(f"{role} {method} {path} → {status}")
            if role in allowed and status == 401:
                wrongly_refused.append(f"{role} {method} {path} → {status}")
            if role == ANON and role not in allowed and status != 401:
                unexpected.append(f"anonymous {method} {path} → {status} (want 401)")
    assert unexpected == []
    assert wrongly_refused == []


def test_a_forged_or_revoked_credential_is_anonymous(client: TestClient) -> None:
    forged = {"Authorization": "Bearer rx_0000000000000000_forged"}
    for method, path in _routes(client):
        if EXPECTED[f"{method} {path}"] != EVERYONE:
            assert _call(client, method, path, forged) == 401, f"{method} {path}"
