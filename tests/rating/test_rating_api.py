"""The rating API over HTTP: who may see a portrait (and that every view and refusal is logged),
and the staff's runs."""

from __future__ import annotations

from datetime import date

from entity_factories import create_entity, make_uscc
from fastapi.testclient import TestClient
from institution_factories import key_headers
from rating_factories import rate
from record_factories import create_record
from sqlalchemy.orm import Session

from rongxin.access.schemas import PrincipalKind
from rongxin.audit import service as audit_service
from rongxin.config import Settings

FIRM = make_uscc(seed=501)
OTHER = make_uscc(seed=502)


def _rated(session: Session, settings: Settings) -> str:
    create_entity(session, uscc=FIRM, size_class="small", establish_date=date(2012, 5, 1))
    create_entity(session, uscc=OTHER, size_class="micro", establish_date=date(2025, 1, 1))
    create_record(
        session,
        item_code="court_enforcement",
        uscc=FIRM,
        payload={"filing_date": "2026-03-01", "status": "执行中", "amount": 120000},
        event_date=date(2026, 3, 1),
    )
    return rate(session, settings).id


def test_institution_sees_the_portrait_and_the_view_is_logged(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _rated(session, settings)
    bank = key_headers(session, PrincipalKind.institution, "bank-rating")
    response = client.get(f"/api/v1/ratings/{FIRM}", params={"purpose": "pre_loan"}, headers=bank)
    assert response.status_code == 200, response.text
    body = response.json()
    lines = {i["code"]: i for d in body["dimensions"] for i in d["indicators"]}
    assert lines["enforcement_open"]["value"] == 1.0
    assert lines["enforcement_open"]["points"] == 50
    assert body["reasons"][0] == "enforcement_open"
    assert body["improvements"][0]["code"] == "enforcement_open"
    assert body["history"][-1]["grade"] == body["grade"]
    logged = audit_service.entries(session, uscc=FIRM, action="rating.view").items
    assert [(e.actor_code, e.outcome, e.purpose) for e in logged] == [
        ("bank-rating", "allowed", "pre_loan")
    ]


def test_enterprise_sees_its_own_rating_only_and_refusals_are_logged(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _rated(session, settings)
    own = key_headers(session, PrincipalKind.enterprise, FIRM)
    mine = client.get(f"/api/v1/ratings/{FIRM}", params={"purpose": "self_query"}, headers=own)
    assert mine.status_code == 200
    theirs = client.get(f"/api/v1/ratings/{OTHER}", params={"purpose": "self_query"}, headers=own)
    assert theirs.status_code == 403
    assert "own rating only" in theirs.json()["message"]
    denied = audit_service.entries(session, uscc=OTHER, action="rating.view").items
    assert [(e.actor_code, e.outcome) for e in denied] == [(FIRM, "denied")]


def test_an_institution_needs_a_financing_purpose(
    client: TestClient, session: Session, settings: Settings
) -> None:
    _rated(session, settings)
    bank = key_headers(session, PrincipalKind.institution, "bank-rating")
    response = client.get(
        f"/api/v1/ratings/{FIRM}", params={"purpose": "public_inquiry"}, headers=bank
    )
    assert response.status_code == 403


def test_unrated_entity_is_a_clear_404(client: TestClient, session: Session) -> None:
    ops = key_headers(session, PrincipalKind.operator, "ops-rating")
    response = client.get(f"/api/v1/ratings/{FIRM}", params={"purpose": "supervision"}, headers=ops)
    assert response.status_code == 404
    assert "rongxin rating run" in response.json()["message"]


def test_staff_start_and_read_runs(client: TestClient, session: Session) -> None:
    create_entity(session, uscc=FIRM, size_class="small")
    ops = key_headers(session, PrincipalKind.operator, "ops-rating")
    started = client.post("/api/v1/ratings/runs", json={"as_of": "2026-09-30"}, headers=ops)
    assert started.status_code == 201, started.text
    run = started.json()
    assert (run["status"], run["entity_count"], run["engine"]) == ("completed", 1, "duckdb")
    assert sum(run["grade_counts"].values()) == 1
    regulator = key_headers(session, PrincipalKind.regulator, "pboc-rating")
    listed = client.get("/api/v1/ratings/runs", headers=regulator).json()
    assert [r["id"] for r in listed] == [run["id"]]
    assert client.get(f"/api/v1/ratings/runs/{run['id']}", headers=regulator).status_code == 200
    changes = client.get(f"/api/v1/ratings/runs/{run['id']}/changes", headers=regulator)
    assert changes.json() == []  # the first run has nothing to compare with
    bank = key_headers(session, PrincipalKind.institution, "bank-rating")
    assert client.get("/api/v1/ratings/runs", headers=bank).status_code == 403
    refused = client.post("/api/v1/ratings/runs", json={"as_of": "2026-09-30"}, headers=bank)
    assert refused.status_code == 403
