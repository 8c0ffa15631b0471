from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from institution_factories import key_headers
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind


def bearer(session: Session, kind: PrincipalKind, code: str) -> dict[str, str]:
    return key_headers(session, kind, code)


@pytest.fixture
def spc(session: Session) -> dict[str, str]:
    return {**bearer(session, PrincipalKind.provider, "spc"), "Content-Type": "text/csv"}


def test_deliver_then_redeliver(client: TestClient, spc: dict[str, str], package: Path) -> None:
    body = (package / "spc/court_judgment.csv").read_bytes()
    first = client.post("/api/v1/ingest/court_judgment", content=body, headers=spc)
    assert first.status_code == 201, first.text
    result = first.json()
    assert result["status"] == "committed"
    assert result["inserted"] == result["row_count"] > 0
    assert result["source_name"].startswith("api:")
    again = client.post("/api/v1/ingest/court_judgment", content=body, headers=spc)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.json()["unchanged"] == result["row_count"]


def test_rejected_delivery_returns_the_report(
    client: TestClient, spc: dict[str, str], package: Path
) -> None:
    lines = (package / "spc/court_judgment.csv").read_text("utf-8").splitlines()
    lines[2] = lines[2].replace("民事", "民俗", 1)
    resp = client.post(
        "/api/v1/ingest/court_judgment", content="\n".join(lines).encode(), headers=spc
    )
    assert resp.status_code == 422
    body = resp.json()
    assert body["status"] == "rejected"
    assert body["problems"][0]["line"] == 3
    assert body["problems"][0]["field"] == "case_type"
    assert body["inserted"] == 0


def test_authentication_and_ownership(client: TestClient, session: Session, package: Path) -> None:
    body = (package / "spc/court_judgment.csv").read_bytes()
    url = "/api/v1/ingest/court_judgment"
    assert client.post(url, content=body, headers={"Content-Type": "text/csv"}).status_code == 401
    bad = {"Authorization": "Bearer rx_nope_nope", "Content-Type": "text/csv"}
    assert client.post(url, content=body, headers=bad).status_code == 401
    bank = {**bearer(session, PrincipalKind.institution, "bank1"), "Content-Type": "text/csv"}
    assert client.post(url, content=body, headers=bank).status_code == 403
    samr = {**bearer(session, PrincipalKind.provider, "samr"), "Content-Type": "text/csv"}
    wrong = client.post(url, content=body, headers=samr)
    assert wrong.status_code == 403
    assert wrong.json()["error"] == "wrong_provider"


def test_revoked_key_is_refused_at_once(
    client: TestClient, session: Session, package: Path
) -> None:
    key = access_service.create_api_key(session, kind=PrincipalKind.provider, code="spc")
    headers = {"Authorization": f"Bearer {key.token}", "Content-Type": "text/csv"}
    access_service.revoke_api_key(session, key_id=key.key_id)
    body = (package / "spc/court_judgment.csv").read_bytes()
    assert (
        client.post("/api/v1/ingest/court_judgment", content=body, headers=headers).status_code
        == 401
    )


def test_unsupported_content_type(client: TestClient, spc: dict[str, str]) -> None:
    resp = client.post(
        "/api/v1/ingest/court_judgment", content=b"x", headers={**spc, "Content-Type": "image/png"}
    )
    assert resp.status_code == 422
    assert "Content-Type" in resp.json()["message"]


def test_history_is_scoped_to_the_provider(
    client: TestClient, session: Session, spc: dict[str, str], package: Path
) -> None:
    client.post(
        "/api/v1/ingest/court_judgment",
        content=(package / "spc/court_judgment.csv").read_bytes(),
        headers=spc,
    )
    samr = {**bearer(session, PrincipalKind.provider, "samr"), "Content-Type": "text/csv"}
    client.post(
        "/api/v1/ingest/registration",
        content=(package / "samr/registration.csv").read_bytes(),
        headers=samr,
    )
    own = client.get("/api/v1/ingest/batches", headers=spc).json()
    assert {b["provider_code"] for b in own["items"]} == {"spc"}
    assert client.get("/api/v1/ingest/batches?provider=samr", headers=spc).status_code == 403
    operator = bearer(session, PrincipalKind.operator, "ops")
    everything = client.get("/api/v1/ingest/batches", headers=operator).json()
    assert {"spc", "samr"} <= {b["provider_code"] for b in everything["items"]}
    samr_batch = next(b for b in everything["items"] if b["provider_code"] == "samr")
    assert client.get(f"/api/v1/ingest/batches/{samr_batch['id']}", headers=spc).status_code == 404
    detail = client.get(f"/api/v1/ingest/batches/{samr_batch['id']}", headers=operator).json()
    assert detail["quality"]["rows"] == detail["row_count"]
    quality = client.get("/api/v1/ingest/quality", headers=spc).json()
    assert [q["item_code"] for q in quality] == ["court_judgment"]
    bank = bearer(session, PrincipalKind.institution, "bank1")
    assert client.get("/api/v1/ingest/batches", headers=bank).status_code == 403
