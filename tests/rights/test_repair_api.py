"""Credit repair end to end over HTTP (G4, DOMAIN.md §5): not yet eligible, eligible and
approved (终止公示、停止共享: out of institution reports and pushes, re-rated, still in the
enterprise's own history), and the automatic end of publication at the maximum."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from institution_factories import institution_headers
from rights_factories import (
    FIRM,
    KEY,
    beijing_morning,
    commitment_echo,
    penalty_records,
    repair_body,
    seed_firm,
    set_clock,
)
from sqlalchemy.orm import Session

from rongxin.access import policy
from rongxin.catalog import service as catalog_service
from rongxin.config import Settings
from rongxin.push import service as push_service
from rongxin.rights.rules import load_rules

API = "/api/v1/rights"
DECIDED = date(2026, 5, 31)  # a 一般 penalty under the 2026 rule (令第36号, from 2026-04-01)


def _body(**overrides: Any) -> dict[str, Any]:
    return repair_body(beijing_morning(DECIDED), **overrides)


@pytest.fixture(autouse=True)
def _seed(session: Session) -> None:
    seed_firm(session, decision_date=DECIDED.isoformat(), severity="一般")


def test_the_2026_rule_publishes_a_general_penalty_one_year_and_repairs_after_three_months() -> (
    None
):
    terms = load_rules().publicity(
        "admin_penalty", {"decision_date": "2026-05-31", "severity": "一般"}
    )
    assert terms is not None
    assert terms.rule_code == "ndrc-order-36"
    assert terms.repairable_from == date(2026, 8, 31)  # D + 3 months
    assert terms.published_until == date(2027, 5, 31)  # D + 1 year: no longer published
    assert not terms.repairable(date(2026, 8, 30))
    assert terms.repairable(date(2026, 8, 31))
    assert not terms.ended(date(2027, 5, 30))
    assert terms.ended(date(2027, 5, 31))


def test_rules_follow_the_decision_date_tier_and_special_domain() -> None:
    rules = load_rules()
    serious_2026 = rules.publicity(
        "admin_penalty", {"decision_date": "2026-05-31", "severity": "严重"}
    )
    assert serious_2026 is not None
    assert (serious_2026.repairable_from, serious_2026.published_until) == (
        date(2027, 5, 31),
        date(2029, 5, 31),
    )
    fire_2024 = rules.publicity(
        "admin_penalty",
        {"decision_date": "2024-01-31", "severity": "一般", "special_domain": "消防"},
    )
    assert fire_2024 is not None
    assert fire_2024.rule_code == "ndrc-order-2023-58"
    assert fire_2024.repairable_from == date(2025, 1, 31)  # a special domain: at least a year
    general_2024 = rules.publicity(
        "admin_penalty", {"decision_date": "2024-01-31", "severity": "一般"}
    )
    assert general_2024 is not None
    assert general_2024.repairable_from == date(2024, 4, 30)  # Jan 31 + 3 months, month end
    assert rules.publicity("admin_penalty", {"decision_date": "2026-05-31"}) is None


def test_applying_before_the_minimum_period_is_refused_with_the_date(
    client: TestClient, firm: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    set_clock(monkeypatch, beijing_morning(date(2026, 8, 30)))  # one day before D + 3 months
    r = client.post(f"{API}/repairs", json=_body(), headers=firm)
    assert r.status_code == 409
    assert r.json()["error"] == "not_yet_repairable"
    assert r.json()["details"]["repairable_from"] == "2026-08-31"
    assert client.get(f"{API}/repairs", headers=firm).json() == []
    terms = client.get(
        f"{API}/publicity", params={"item_code": "admin_penalty", "record_key": KEY}, headers=firm
    ).json()
    assert (terms["repairable_now"], terms["published_until"]) == (False, "2027-05-31")


def test_an_approved_repair_ends_publication_and_sharing(
    client: TestClient,
    session: Session,
    firm: dict[str, str],
    provider: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    bank = institution_headers(session, "bank-repair")
    before = client.get(f"/api/v1/reports/{FIRM}", params={"purpose": "pre_loan"}, headers=bank)
    assert [r["status"] for r in penalty_records(before.json())] == ["published"]

    set_clock(monkeypatch, beijing_morning(date(2026, 8, 31)))  # exactly D + 3 months: eligible
    filed = client.post(f"{API}/repairs", json=_body(), headers=firm)
    assert filed.status_code == 201, filed.text
    application = filed.json()
    assert application["review_due_date"] == "2026-09-14"  # 10 working days
    r = client.post(
        f"{API}/repairs/{application['id']}/review",
        json={"approve": True, "note": "已纠正失信行为并作出信用承诺，同意修复"},
        headers=provider,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"

    after = client.get(f"/api/v1/reports/{FIRM}", params={"purpose": "pre_loan"}, headers=bank)
    assert penalty_records(after.json()) == []  # in no institution report
    own = client.get(f"/api/v1/reports/{FIRM}", params={"purpose": "self_query"}, headers=firm)
    assert [(r["status"], r["status_name"]) for r in penalty_records(own.json())] == [
        ("repaired", "已修复")
    ]  # the enterprise still sees its own history
    # batch push tells subscribers to withdraw it: the newest change of the record is the
    # repaired version, pushed with its key fields only
    changes = policy.shared_changes_since(
        session, items=catalog_service.load_catalog().items, after_seq=0, limit=1000
    )
    latest = [c for c in changes if c.record_key == KEY][-1]
    assert latest.status.value == "repaired"
    item = catalog_service.load_catalog().item("admin_penalty")
    assert set(push_service.project_change(latest, item)["payload"]) == {"uscc", "decision_no"}
    # the entity was re-rated at once when a full rating run exists (none here): the run list
    # is unchanged, and the repair's history is complete
    detail = client.get(f"{API}/repairs/{application['id']}", headers=firm).json()
    assert [e["action"] for e in detail["events"]] == ["filed", "approved"]


def test_a_rejected_repair_keeps_the_record_published(
    client: TestClient,
    session: Session,
    firm: dict[str, str],
    operator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_clock(monkeypatch, beijing_morning(date(2026, 9, 1)))
    application = client.post(f"{API}/repairs", json=_body(), headers=firm).json()
    r = client.post(
        f"{API}/repairs/{application['id']}/review",
        json={"approve": False, "note": "未提供缴款凭证"},
        headers=operator,
    )
    assert r.json()["status"] == "rejected"
    bank = institution_headers(session, "bank-repair")
    report = client.get(f"/api/v1/reports/{FIRM}", params={"purpose": "pre_loan"}, headers=bank)
    assert [r["status"] for r in penalty_records(report.json())] == ["published"]


def test_publication_ends_on_its_own_at_the_maximum(
    client: TestClient,
    session: Session,
    firm: dict[str, str],
    operator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bank = institution_headers(session, "bank-expiry")
    set_clock(monkeypatch, beijing_morning(date(2027, 5, 30)))  # the last day it is published
    assert client.post(f"{API}/sweep", headers=operator).json()["expired_records"] == 0
    report = client.get(f"/api/v1/reports/{FIRM}", params={"purpose": "pre_loan"}, headers=bank)
    assert len(penalty_records(report.json())) == 1
    set_clock(monkeypatch, beijing_morning(date(2027, 5, 31)))  # D + 1 year
    ended = client.post(f"{API}/sweep", headers=operator).json()
    assert ended["expired_records"] == 1
    assert ended["rerated_entities"] == 0  # this node has never rated: nothing to re-rate
    assert client.post(f"{API}/sweep", headers=operator).json()["expired_records"] == 0
    report = client.get(f"/api/v1/reports/{FIRM}", params={"purpose": "pre_loan"}, headers=bank)
    assert penalty_records(report.json()) == []
    own = client.get(f"/api/v1/reports/{FIRM}", params={"purpose": "self_query"}, headers=firm)
    assert [r["status"] for r in penalty_records(own.json())] == ["expired"]
    notices = client.get(f"{API}/notices", headers=firm).json()
    assert notices[0]["action"] == "publication_ended"
    late = client.post(
        f"{API}/repairs",
        json=_body(commitment=commitment_echo(beijing_morning(date(2027, 6, 1)))),
        headers=firm,
    )
    assert late.status_code == 409  # nothing left to repair


def test_regulators_and_other_providers_cannot_review(
    client: TestClient,
    firm: dict[str, str],
    headers: Callable[[str, str], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_clock(monkeypatch, beijing_morning(date(2026, 9, 1)))
    application = client.post(f"{API}/repairs", json=_body(), headers=firm).json()
    review = {"approve": True, "note": "同意"}
    regulator = headers("regulator", "reg-1")
    url = f"{API}/repairs/{application['id']}/review"
    assert client.post(url, json=review, headers=regulator).status_code == 403
    assert client.post(url, json=review, headers=headers("provider", "samr")).status_code == 404
    assert client.get(f"{API}/repairs/{application['id']}", headers=regulator).status_code == 200


def test_an_approved_repair_re_rates_the_entity_at_once(
    client: TestClient,
    session: Session,
    settings: Settings,
    firm: dict[str, str],
    operator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rongxin.rating.batch import run_rating

    full = run_rating(
        session,
        catalog=catalog_service.load_catalog(),
        as_of=date(2026, 8, 31),
        triggered_by="test",
        settings=settings,
    )
    set_clock(monkeypatch, beijing_morning(date(2026, 9, 1)))
    application = client.post(f"{API}/repairs", json=_body(), headers=firm).json()
    client.post(
        f"{API}/repairs/{application['id']}/review",
        json={"approve": True, "note": "同意修复"},
        headers=operator,
    )
    runs = client.get("/api/v1/ratings/runs", headers=operator).json()
    rerated = [r for r in runs if r["scope"] == "entities"]
    assert len(rerated) == 1
    assert rerated[0]["entity_count"] == 1
    assert rerated[0]["triggered_by"] == f"repair:{application['id']}"
    assert rerated[0]["previous_run_id"] == full.id
    portrait = client.get(
        f"/api/v1/ratings/{FIRM}", params={"purpose": "self_query"}, headers=firm
    ).json()
    assert [h["run_id"] for h in portrait["history"]] == [full.id, rerated[0]["id"]]
