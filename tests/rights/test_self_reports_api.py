"""Self-reported information under a credit commitment (S3), over HTTP: validated against the
catalog like any delivery, labelled 自主填报 in reports, evidence files attached, and a broken
commitment shown in reports."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from rights_factories import EVE_OF_NATIONAL_DAY, FIRM, commitment_echo, seed_firm, set_clock
from sqlalchemy.orm import Session

API = "/api/v1/rights"


@pytest.fixture(autouse=True)
def _seed(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_firm(session)
    set_clock(monkeypatch, EVE_OF_NATIONAL_DAY)


def _financials(**values: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "fiscal_year": 2025,
        "revenue": 1234.5,
        "total_assets": 2000,
        "total_liabilities": 800,
        "net_profit": 88.8,
        "audited": True,
    }
    fields.update(values)
    return {"item_code": "self_financials", "values": fields, "commitment": commitment_echo()}


def _own_items(client: TestClient, firm: dict[str, str]) -> dict[str, dict[str, Any]]:
    report = client.get(
        f"/api/v1/reports/{FIRM}", params={"purpose": "self_query"}, headers=firm
    ).json()
    return {i["item_code"]: i for s in report["sections"] for i in s["items"]}


def test_self_reported_financials_are_stored_and_labelled(
    client: TestClient, firm: dict[str, str]
) -> None:
    r = client.post(f"{API}/self-reports", json=_financials(), headers=firm)
    assert r.status_code == 201, r.text
    result = r.json()
    assert (result["outcome"], result["record_key"]) == ("inserted", f"{FIRM}\x1f2025")
    again = client.post(f"{API}/self-reports", json=_financials(), headers=firm)
    assert again.json()["outcome"] == "unchanged"
    changed = client.post(f"{API}/self-reports", json=_financials(revenue=1300), headers=firm)
    assert changed.json()["outcome"] == "updated"
    item = _own_items(client, firm)["self_financials"]
    assert item["self_reported"] is True
    [record] = item["records"]
    values = {f["name"]: f["value"] for f in record["fields"]}
    assert float(values["revenue"]) == 1300.0
    assert values["commitment_version"] == commitment_echo()["version"]
    assert record["version"] == 2
    signed = client.get(f"{API}/commitments", headers=firm).json()
    assert {c["context"] for c in signed} == {"self_report"}
    assert len(signed) == 3


def test_a_bad_value_names_the_field_and_writes_no_record(
    client: TestClient, firm: dict[str, str]
) -> None:
    r = client.post(f"{API}/self-reports", json=_financials(revenue=-5), headers=firm)
    assert r.status_code == 422
    assert r.json()["details"]["field"] == "revenue"
    missing = _financials()
    del missing["values"]["total_assets"]
    r = client.post(f"{API}/self-reports", json=missing, headers=firm)
    assert (r.status_code, r.json()["details"]["field"]) == (422, "total_assets")
    assert _own_items(client, firm)["self_financials"]["records"] == []


def test_only_self_reported_items_can_be_self_reported(
    client: TestClient, firm: dict[str, str]
) -> None:
    body = {"item_code": "admin_penalty", "values": {}, "commitment": commitment_echo()}
    r = client.post(f"{API}/self-reports", json=body, headers=firm)
    assert (r.status_code, r.json()["details"]["field"]) == (422, "item_code")


def test_statements_take_evidence_files(client: TestClient, firm: dict[str, str]) -> None:
    body = {
        "item_code": "self_statement",
        "values": {
            "statement_type": "资质证书",
            "title": "高新技术企业证书",
            "content": "证书编号 GR2025...",
        },
        "commitment": commitment_echo(),
    }
    result = client.post(f"{API}/self-reports", json=body, headers=firm).json()
    url = f"{API}/self-reports/self_statement/attachments"
    pdf = ("cert.pdf", b"%PDF-1.7 test", "application/pdf")
    r = client.post(
        url, params={"record_key": result["record_key"]}, files={"file": pdf}, headers=firm
    )
    assert r.status_code == 201, r.text
    stored = r.json()
    got = client.get(f"{API}/attachments/{stored['id']}", headers=firm)
    assert (got.status_code, got.content) == (200, b"%PDF-1.7 test")
    exe = ("run.exe", b"MZ...", "application/x-msdownload")
    bad = client.post(
        url, params={"record_key": result["record_key"]}, files={"file": exe}, headers=firm
    )
    assert (bad.status_code, bad.json()["details"]["field"]) == (422, "file")


def test_a_broken_commitment_shows_in_reports(
    client: TestClient, firm: dict[str, str], operator: dict[str, str]
) -> None:
    result = client.post(f"{API}/self-reports", json=_financials(), headers=firm).json()
    r = client.post(
        f"{API}/commitments/{result['commitment_id']}/broken",
        json={"note": "自报营业收入与税务数据严重不符"},
        headers=operator,
    )
    assert (r.status_code, r.json()["status"]) == (200, "broken")
    report = client.get(
        f"/api/v1/reports/{FIRM}", params={"purpose": "self_query"}, headers=firm
    ).json()
    assert report["summary"]["broken_commitments"] == 1
