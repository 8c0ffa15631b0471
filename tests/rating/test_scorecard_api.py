"""Institutions' own scorecards on platform data (E2, 可用不可见) over HTTP: register, approval
by the operator, scoring that sees authorized items only for entities that authorized the
institution, only scores and reasons coming back, and every scoring logged."""

from __future__ import annotations

from datetime import date
from typing import Any

from entity_factories import create_entity, make_uscc
from fastapi.testclient import TestClient
from institution_factories import key_headers
from provider_factories import grant
from record_factories import create_record
from sqlalchemy.orm import Session

from rongxin.access.schemas import PrincipalKind
from rongxin.audit import service as audit_service

BANK = "bank-card"
AUTHORIZED = make_uscc(seed=701)
NOT_AUTHORIZED = make_uscc(seed=702)

SPEC: dict[str, Any] = {
    "name": "bank-sme",
    "version": "1",
    "base_points": 500,
    "variables": [
        {
            "name": "si_months_12m",
            "type": "numerical",
            "bins": [
                {"upper": 6, "points": -40},
                {"upper": 12, "points": 10},
                {"upper": None, "points": 40},
            ],
            "missing_points": -10,
        },
        {
            "name": "penalties_3y",
            "type": "numerical",
            "bins": [{"upper": 1, "points": 30}, {"upper": None, "points": -30}],
            "missing_points": 0,
        },
        {
            "name": "size_class",
            "type": "categorical",
            "bins": [{"categories": ["small", "medium"], "points": 20}],
            "other_points": 0,
            "missing_points": -5,
        },
    ],
}


def _seed(session: Session) -> None:
    create_entity(session, uscc=AUTHORIZED, size_class="small")
    create_entity(session, uscc=NOT_AUTHORIZED, size_class="micro")
    for uscc in (AUTHORIZED, NOT_AUTHORIZED):
        for month in range(1, 13):  # 2025-10 … 2026-09: twelve months before the as-of date
            year, m = (2025, 9 + month) if month <= 3 else (2026, month - 3)
            create_record(
                session,
                item_code="social_insurance",
                uscc=uscc,
                payload={"period": f"{year}-{m:02d}", "insured_count": 12, "arrears_months": 0},
            )
    create_record(
        session,
        item_code="admin_penalty",
        uscc=NOT_AUTHORIZED,
        payload={"decision_date": "2026-02-01", "severity": "一般"},
        event_date=date(2026, 2, 1),
    )
    grant(
        session,
        uscc=AUTHORIZED,
        items=["social_insurance"],
        institution=BANK,
        access_mode="view",
        data_from=date(2025, 1, 1),
        data_to=date(2026, 9, 30),
    )


def test_scorecard_runs_on_what_the_institution_may_read(
    client: TestClient, session: Session
) -> None:
    bank = key_headers(session, PrincipalKind.institution, BANK)
    _seed(session)
    registered = client.post("/api/v1/scorecards", json=SPEC, headers=bank)
    assert registered.status_code == 201, registered.text
    card = registered.json()
    assert (card["owner_code"], card["status"]) == (BANK, "draft")
    body = {"usccs": [AUTHORIZED, NOT_AUTHORIZED], "purpose": "pre_loan", "as_of": "2026-09-30"}
    early = client.post(f"/api/v1/scorecards/{card['id']}/score", json=body, headers=bank)
    assert early.status_code == 409  # not approved yet

    ops = key_headers(session, PrincipalKind.operator, "ops-card")
    approved = client.post(f"/api/v1/scorecards/{card['id']}/approve", headers=ops)
    assert approved.json()["status"] == "approved"

    scored = client.post(f"/api/v1/scorecards/{card['id']}/score", json=body, headers=bank)
    assert scored.status_code == 200, scored.text
    result = {s["uscc"]: s for s in scored.json()["scores"]}
    # authorized: 12 months of social insurance (40), no penalty (30), small (20)
    assert result[AUTHORIZED]["score"] == 500 + 40 + 30 + 20
    assert result[AUTHORIZED]["reasons"] == []
    assert result[AUTHORIZED]["items_used"] == ["social_insurance"]
    assert len(result[AUTHORIZED]["authorization_ids"]) == 1
    # not authorized: its social insurance is unknown to the bank (missing, −10, not "0
    # months"), one penalty (−30), micro (0)
    assert result[NOT_AUTHORIZED]["score"] == 500 - 10 - 30 + 0
    assert result[NOT_AUTHORIZED]["reasons"] == ["penalties_3y", "si_months_12m", "size_class"]
    assert result[NOT_AUTHORIZED]["items_used"] == ["admin_penalty"]
    assert result[NOT_AUTHORIZED]["authorization_ids"] == []
    # only scores and reasons leave: no record values in the answer
    assert "insured_count" not in scored.text
    logged = audit_service.entries(session, action="scorecard.score").items
    assert sorted((e.uscc, tuple(e.items)) for e in logged) == sorted(
        [(AUTHORIZED, ("social_insurance",)), (NOT_AUTHORIZED, ("admin_penalty",))]
    )


def test_variables_must_be_rating_features(client: TestClient, session: Session) -> None:
    bank = key_headers(session, PrincipalKind.institution, BANK)
    spec = {**SPEC, "variables": [{**SPEC["variables"][0], "name": "revenue_growth"}]}
    response = client.post("/api/v1/scorecards", json=spec, headers=bank)
    assert response.status_code == 422
    assert "revenue_growth" in response.json()["message"]
    assert response.json()["details"]["field"] == "variables.0.name"


def test_another_institution_cannot_see_or_run_the_card(
    client: TestClient, session: Session
) -> None:
    bank = key_headers(session, PrincipalKind.institution, BANK)
    card = client.post("/api/v1/scorecards", json=SPEC, headers=bank).json()
    other = key_headers(session, PrincipalKind.institution, "bank-other")
    assert client.get(f"/api/v1/scorecards/{card['id']}", headers=other).status_code == 404
    body = {"usccs": [AUTHORIZED], "purpose": "pre_loan"}
    run = client.post(f"/api/v1/scorecards/{card['id']}/score", json=body, headers=other)
    assert run.status_code == 404
    assert client.get("/api/v1/scorecards", headers=other).json() == []
    ops = key_headers(session, PrincipalKind.operator, "ops-card")
    assert [c["id"] for c in client.get("/api/v1/scorecards", headers=ops).json()] == [card["id"]]
