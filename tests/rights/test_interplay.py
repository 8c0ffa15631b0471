"""How objections, repair and the end of publication meet (the review's cases): a record that
stopped being published is never republished by the end of an objection, an earlier
annotation survives a later objection, each overdue step is escalated, work lists put the
oldest first, and the parties can act only on their own cases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from record_factories import create_record
from rights_factories import (
    EVE_OF_NATIONAL_DAY,
    FIRM,
    accepted_objection,
    beijing_morning,
    commitment_echo,
    institution_report,
    objection_body,
    penalty,
    penalty_records,
    repair_body,
    seed_firm,
    set_clock,
)
from sqlalchemy.orm import Session

from rongxin.catalog import service as catalog_service
from rongxin.config import Settings
from rongxin.rating.batch import run_rating

API = "/api/v1/rights"


def _statuses(client: TestClient, session: Session) -> list[str]:
    return [
        r["status"] for r in penalty_records(institution_report(client, session, "bank-interplay"))
    ]


def _accepted(client: TestClient, firm: dict[str, str], operator: dict[str, str]) -> str:
    return str(accepted_objection(client, firm, operator)["id"])


def _answer(client: TestClient, objection_id: str, headers: dict[str, str], **body: Any) -> Any:
    payload = {"outcome": "confirmed", "check_result": "经核查无误", **body}
    return client.post(f"{API}/objections/{objection_id}/answer", json=payload, headers=headers)


@pytest.fixture(autouse=True)
def _seed(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_firm(session, decision_date="2025-01-10")  # 一般 under the 2023 rule: 3 months–3 years
    set_clock(monkeypatch, EVE_OF_NATIONAL_DAY)


def test_an_objection_ending_never_republishes_an_expired_record(
    client: TestClient,
    session: Session,
    firm: dict[str, str],
    operator: dict[str, str],
    provider: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    objection_id = _accepted(client, firm, operator)
    assert _statuses(client, session) == ["disputed"]
    set_clock(
        monkeypatch, beijing_morning(date(2028, 1, 10))
    )  # past D + 3 years while under objection
    assert client.post(f"{API}/sweep", headers=operator).json()["expired_records"] == 1
    assert _answer(client, objection_id, provider).status_code == 200
    assert _statuses(client, session) == []  # still not published


def test_a_disputed_record_is_not_repaired_and_withdrawal_restores_the_annotation(
    client: TestClient,
    session: Session,
    firm: dict[str, str],
    operator: dict[str, str],
    provider: dict[str, str],
) -> None:
    first = _accepted(client, firm, operator)
    assert _answer(client, first, provider, outcome="undecidable").status_code == 200
    assert _statuses(client, session) == ["annotated"]
    second = _accepted(client, firm, operator)
    assert _statuses(client, session) == ["disputed"]
    refused = client.post(f"{API}/repairs", json=repair_body(), headers=firm)
    assert (refused.status_code, refused.json()["error"]) == (409, "invalid_transition")
    assert client.post(f"{API}/objections/{second}/withdraw", headers=firm).status_code == 200
    assert _statuses(client, session) == ["annotated"]  # the earlier objection still shows


def test_providers_answer_only_objections_routed_to_them(
    client: TestClient,
    firm: dict[str, str],
    operator: dict[str, str],
    provider: dict[str, str],
    headers: Callable[[str, str], dict[str, str]],
) -> None:
    filed = client.post(f"{API}/objections", json=objection_body(), headers=firm).json()
    not_routed = _answer(client, filed["id"], provider)
    assert (not_routed.status_code, not_routed.json()["error"]) == (409, "invalid_transition")
    client.post(f"{API}/objections/{filed['id']}/accept", headers=operator)
    assert _answer(client, filed["id"], headers("provider", "samr")).status_code == 404
    assert _answer(client, filed["id"], provider).status_code == 200


def test_each_late_step_is_escalated_and_holidays_do_not_count(
    client: TestClient,
    firm: dict[str, str],
    operator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    filed = client.post(f"{API}/objections", json=objection_body(), headers=firm).json()
    for day in (date(2026, 10, 8), date(2026, 10, 9)):  # inside the deadline (Oct 9)
        set_clock(monkeypatch, beijing_morning(day))
        assert client.post(f"{API}/sweep", headers=operator).json()["escalated_objections"] == 0
    set_clock(
        monkeypatch, beijing_morning(date(2026, 10, 10))
    )  # a Saturday worked (调休): one day late
    assert client.post(f"{API}/sweep", headers=operator).json()["escalated_objections"] == 1
    client.post(f"{API}/objections/{filed['id']}/accept", headers=operator)
    accepted = client.get(f"{API}/objections/{filed['id']}", headers=firm).json()["objection"]
    assert accepted["step_escalated"] is False  # the provider's step starts afresh
    due = date.fromisoformat(accepted["due_date"])
    assert due == date(2026, 10, 20)  # capped by the 20 calendar days from filing
    set_clock(monkeypatch, beijing_morning(due + timedelta(days=1)))
    assert client.post(f"{API}/sweep", headers=operator).json()["escalated_objections"] == 1
    detail = client.get(f"{API}/objections/{filed['id']}", headers=firm).json()
    escalations = [e for e in detail["events"] if e["action"] == "escalated"]
    assert [e["status_from"] for e in escalations] == ["submitted", "with_provider"]
    assert detail["objection"]["step_escalated"] is True


def test_self_reported_records_are_changed_by_reporting_not_by_objection(
    client: TestClient, firm: dict[str, str]
) -> None:
    values = {
        "fiscal_year": 2025,
        "revenue": 1234.5,
        "total_assets": 2000,
        "total_liabilities": 800,
        "net_profit": 88.8,
        "audited": True,
    }
    for revenue in (1234.5, 1300, 1234.5):  # going back to earlier content is a change too
        body = {
            "item_code": "self_financials",
            "values": {**values, "revenue": revenue},
            "commitment": commitment_echo(),
        }
        assert client.post(f"{API}/self-reports", json=body, headers=firm).status_code == 201
    own = client.get(
        f"/api/v1/reports/{FIRM}", params={"purpose": "self_query"}, headers=firm
    ).json()
    [item] = [i for s in own["sections"] for i in s["items"] if i["item_code"] == "self_financials"]
    [record] = item["records"]
    revenue = next(f["value"] for f in record["fields"] if f["name"] == "revenue")
    assert float(revenue) == 1234.5
    assert record["version"] == 3
    objection = objection_body(item_code="self_financials", record_key=f"{FIRM}\x1f2025")
    refused = client.post(f"{API}/objections", json=objection, headers=firm)
    assert (refused.status_code, refused.json()["details"]["field"]) == (422, "item_code")


def test_closed_cases_take_no_more_evidence(
    client: TestClient, firm: dict[str, str], operator: dict[str, str]
) -> None:
    filed = client.post(f"{API}/objections", json=objection_body(), headers=firm).json()
    url = f"{API}/objections/{filed['id']}"
    client.post(f"{url}/reject", json={"note": "不予受理"}, headers=operator)
    late = client.post(
        f"{url}/attachments",
        files={"file": ("late.pdf", b"%PDF-1.4", "application/pdf")},
        headers=firm,
    )
    assert (late.status_code, late.json()["error"]) == (409, "invalid_transition")


def test_approval_checks_the_record_as_it_is_now(
    client: TestClient,
    session: Session,
    firm: dict[str, str],
    operator: dict[str, str],
) -> None:
    application = client.post(f"{API}/repairs", json=repair_body(), headers=firm).json()
    # meanwhile the provider delivers a corrected record: decided 2026-09-01 and 严重 — under
    # the 2026 rule repairable only from 2027-09-01, so the approval is refused
    create_record(
        session,
        item_code="admin_penalty",
        uscc=FIRM,
        payload=penalty(decision_date="2026-09-01", severity="严重"),
    )
    review = client.post(
        f"{API}/repairs/{application['id']}/review",
        json={"approve": True, "note": "同意"},
        headers=operator,
    )
    assert (review.status_code, review.json()["error"]) == (409, "not_yet_repairable")
    assert review.json()["details"]["repairable_from"] == "2027-09-01"
    assert _statuses(client, session) == ["published"]


def test_the_sweep_re_rates_entities_whose_records_ended(
    client: TestClient,
    session: Session,
    settings: Settings,
    operator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_rating(
        session,
        catalog=catalog_service.load_catalog(),
        as_of=date(2026, 9, 30),
        triggered_by="test",
        settings=settings,
    )
    set_clock(monkeypatch, beijing_morning(date(2028, 1, 10)))
    result = client.post(f"{API}/sweep", headers=operator).json()
    assert (result["expired_records"], result["rerated_entities"]) == (1, 1)
    assert result["full_rating_needed"] is False
    runs = client.get("/api/v1/ratings/runs", headers=operator).json()
    newest = runs[0]
    assert (newest["scope"], newest["triggered_by"]) == ("entities", "rights-sweep")
