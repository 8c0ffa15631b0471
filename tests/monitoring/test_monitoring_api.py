"""The alert API: who may read and act, filters, acknowledge and close, scan on demand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from monitoring_factories import BANK, PRIVATE_ITEM, T0, log, reads
from sqlalchemy.orm import Session

from rongxin.access.schemas import PrincipalKind
from rongxin.audit.schemas import Outcome
from rongxin.config import Settings

Headers = Callable[[PrincipalKind, str], dict[str, str]]
MINUTE = timedelta(minutes=1)


def _crafted(session: Session, settings: Settings) -> None:
    """20 refused reads of bank-fz; 300 public reads of distinct firms by bank-xm (10 hours)."""
    log(
        session,
        settings,
        reads(T0, 20, every=MINUTE, outcome=Outcome.denied, items=[PRIVATE_ITEM]),
    )
    log(session, settings, reads(T0, 300, every=2 * MINUTE, distinct=True, actor="bank-xm"))


def test_scan_then_list_filter_and_handle(
    client: TestClient, session: Session, settings: Settings, api_headers: Headers
) -> None:
    ops = api_headers(PrincipalKind.operator, "ops")
    regulator = api_headers(PrincipalKind.regulator, "pboc")
    _crafted(session, settings)
    scanned = client.post("/api/v1/monitoring/scan", headers=ops)
    assert scanned.status_code == 200, scanned.text
    body = scanned.json()
    assert body["entries_scanned"] == 320
    assert len(body["alerts_created"]) == 2
    listed = client.get("/api/v1/monitoring/alerts", headers=regulator).json()
    assert listed["total"] == 2
    assert [a["severity"] for a in listed["items"]] == ["high", "medium"]  # most severe first
    only = client.get(
        "/api/v1/monitoring/alerts", params={"rule": "public_bulk"}, headers=regulator
    ).json()
    assert [(a["institution_code"], a["observed"]) for a in only["items"]] == [("bank-xm", 300)]
    mine = client.get("/api/v1/monitoring/alerts", params={"institution": BANK}, headers=ops).json()
    [alert] = mine["items"]
    assert alert["rule_code"] == "refused_reads"
    one = client.get(f"/api/v1/monitoring/alerts/{alert['id']}", headers=regulator)
    assert one.json()["sample_seqs"][0] == alert["first_seq"]
    # regulators read, operators act
    refused = client.post(
        f"/api/v1/monitoring/alerts/{alert['id']}/acknowledge",
        json={"note": "calling the bank"},
        headers=regulator,
    )
    assert refused.status_code == 403
    ack = client.post(
        f"/api/v1/monitoring/alerts/{alert['id']}/acknowledge",
        json={"note": "calling the bank"},
        headers=ops,
    )
    assert ack.status_code == 200
    assert ack.json()["status"] == "acknowledged"
    assert ack.json()["acknowledged_by"].startswith("operator:ops/")
    twice = client.post(
        f"/api/v1/monitoring/alerts/{alert['id']}/acknowledge",
        json={"note": "again"},
        headers=ops,
    )
    assert twice.status_code == 409
    closed = client.post(
        f"/api/v1/monitoring/alerts/{alert['id']}/close",
        json={"note": "a misconfigured client; fixed"},
        headers=ops,
    )
    assert closed.json()["status"] == "closed"
    assert "calling the bank" in closed.json()["note"]
    by_status = client.get(
        "/api/v1/monitoring/alerts", params={"status": ["open", "acknowledged"]}, headers=ops
    ).json()
    assert by_status["total"] == 1
    rescan = client.post("/api/v1/monitoring/scan", headers=ops).json()
    assert (rescan["entries_scanned"], rescan["alerts_created"]) == (0, [])


def test_bad_input_is_named(client: TestClient, api_headers: Headers) -> None:
    ops = api_headers(PrincipalKind.operator, "ops")
    missing = client.get("/api/v1/monitoring/alerts/" + "0" * 32, headers=ops)
    assert missing.status_code == 404
    assert missing.json()["error"] == "alert_not_found"
    no_note = client.post(
        "/api/v1/monitoring/alerts/" + "0" * 32 + "/close", json={"note": ""}, headers=ops
    )
    assert no_note.status_code == 422
    assert no_note.json()["details"][0]["field"] == "body.note"
    bad_rule = client.get("/api/v1/monitoring/alerts", params={"rule": "nope"}, headers=ops)
    assert bad_rule.status_code == 422
    assert bad_rule.json()["details"][0]["field"] == "query.rule"


def test_institutions_and_anonymous_are_refused(
    client: TestClient, session: Session, api_headers: Headers
) -> None:
    from institution_factories import institution_headers

    assert client.get("/api/v1/monitoring/alerts").status_code == 401
    bank = institution_headers(session, BANK)
    assert client.get("/api/v1/monitoring/alerts", headers=bank).status_code == 403
    assert client.post("/api/v1/monitoring/scan", headers=bank).status_code == 403
    regulator = api_headers(PrincipalKind.regulator, "pboc")
    assert client.post("/api/v1/monitoring/scan", headers=regulator).status_code == 403
