"""Objections end to end over HTTP (G4, DOMAIN.md §6): every outcome, the 异议中 flag in
institution reports while open, working-day deadlines across the National Day holiday,
escalation, history and notices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from institution_factories import institution_headers
from rights_factories import (
    EVE_OF_NATIONAL_DAY,
    FIRM,
    KEY,
    OTHER_FIRM,
    accepted_objection,
    commitment_echo,
    institution_report,
    objection_body,
    penalty_records,
    seed_firm,
    set_clock,
)
from sqlalchemy.orm import Session

API = "/api/v1/rights"


@pytest.fixture(autouse=True)
def _seed(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_firm(session)
    set_clock(monkeypatch, EVE_OF_NATIONAL_DAY)


def _file(client: TestClient, firm: dict[str, str], **overrides: Any) -> dict[str, Any]:
    r = client.post(f"{API}/objections", json=objection_body(**overrides), headers=firm)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_deadlines_count_working_days_across_the_national_day_holiday(
    client: TestClient, firm: dict[str, str], operator: dict[str, str]
) -> None:
    """Filed on 2026-09-30: two working days to accept skip Oct 1–7 (National Day) and end on
    Friday Oct 9 — not Oct 2, as calendar days would; the whole answer is due in 20 calendar
    days (Oct 20)."""
    filed = _file(client, firm)
    assert filed["status"] == "submitted"
    assert filed["accept_due_date"] == "2026-10-09"
    assert filed["final_due_date"] == "2026-10-20"
    assert filed["due_date"] == "2026-10-09"


def test_accepting_flags_the_record_in_institution_reports_at_once(
    client: TestClient,
    session: Session,
    firm: dict[str, str],
    operator: dict[str, str],
) -> None:
    before = penalty_records(institution_report(client, session))
    assert [r["status"] for r in before] == ["published"]
    accepted = accepted_objection(client, firm, operator)
    assert accepted["status"] == "with_provider"
    # ten working days after Sep 30: Oct 8, 9, 10 (a Saturday worked, 调休), 12–16, 19, 20
    assert accepted["provider_due_date"] == "2026-10-20"
    shown = penalty_records(institution_report(client, session))
    assert [(r["status"], r["status_name"]) for r in shown] == [("disputed", "异议中")]


def test_corrected_outcome_replaces_the_record_and_removes_the_flag(
    client: TestClient,
    session: Session,
    firm: dict[str, str],
    operator: dict[str, str],
    provider: dict[str, str],
) -> None:
    accepted = accepted_objection(client, firm, operator)
    inbox = client.get(f"{API}/objections", headers=provider).json()
    assert [o["id"] for o in inbox] == [accepted["id"]]
    r = client.post(
        f"{API}/objections/{accepted['id']}/answer",
        json={
            "outcome": "corrected",
            "check_result": "经核查，罚款金额录入有误，已更正为3000元",
            "corrected": {"fine_amount": 3000},
        },
        headers=provider,
    )
    assert r.status_code == 200, r.text
    closed = r.json()
    assert (closed["status"], closed["outcome"]) == ("closed", "corrected")
    assert closed["corrected_version"] > accepted["record_version"]
    [record] = penalty_records(institution_report(client, session))
    assert record["status"] == "published"
    fine = next(f for f in record["fields"] if f["name"] == "fine_amount")
    assert float(fine["value"]) == 3000.0


def test_confirmed_outcome_keeps_the_record_and_removes_the_flag(
    client: TestClient,
    session: Session,
    firm: dict[str, str],
    operator: dict[str, str],
    provider: dict[str, str],
) -> None:
    accepted = accepted_objection(client, firm, operator)
    r = client.post(
        f"{API}/objections/{accepted['id']}/answer",
        json={"outcome": "confirmed", "check_result": "经核查，原记录准确无误"},
        headers=provider,
    )
    assert r.status_code == 200, r.text
    [record] = penalty_records(institution_report(client, session))
    assert record["status"] == "published"
    fine = next(f for f in record["fields"] if f["name"] == "fine_amount")
    assert float(fine["value"]) == 5000.0


def test_undecidable_outcome_shows_the_objection_and_the_check_result(
    client: TestClient,
    session: Session,
    firm: dict[str, str],
    operator: dict[str, str],
    provider: dict[str, str],
) -> None:
    accepted = accepted_objection(client, firm, operator)
    r = client.post(
        f"{API}/objections/{accepted['id']}/answer",
        json={"outcome": "undecidable", "check_result": "原始档案缺失，无法核实"},
        headers=provider,
    )
    assert r.status_code == 200, r.text
    [record] = penalty_records(institution_report(client, session))
    assert record["status"] == "annotated"
    assert record["objection"]["check_result"] == "原始档案缺失，无法核实"
    assert record["objection"]["reason"].startswith("罚款金额有误")
    html = client.get(
        f"/api/v1/reports/{FIRM}",
        params={"purpose": "pre_loan", "format": "html"},
        headers=institution_headers(session, "bank-rights"),
    )
    assert "异议已标注" in html.text
    assert "原始档案缺失，无法核实" in html.text


def test_rejected_and_withdrawn_objections_leave_the_record_published(
    client: TestClient,
    session: Session,
    firm: dict[str, str],
    operator: dict[str, str],
) -> None:
    filed = _file(client, firm)
    r = client.post(
        f"{API}/objections/{filed['id']}/reject", json={"note": "未提供证明材料"}, headers=operator
    )
    assert (r.status_code, r.json()["status"]) == (200, "rejected")
    again = accepted_objection(client, firm, operator)  # a new objection once the first is closed
    r = client.post(f"{API}/objections/{again['id']}/withdraw", headers=firm)
    assert (r.status_code, r.json()["status"]) == (200, "withdrawn")
    [record] = penalty_records(institution_report(client, session))
    assert record["status"] == "published"


def test_history_and_notices_follow_every_step(
    client: TestClient,
    firm: dict[str, str],
    operator: dict[str, str],
    provider: dict[str, str],
) -> None:
    accepted = accepted_objection(client, firm, operator)
    client.post(
        f"{API}/objections/{accepted['id']}/answer",
        json={"outcome": "confirmed", "check_result": "经核查无误"},
        headers=provider,
    )
    detail = client.get(f"{API}/objections/{accepted['id']}", headers=firm).json()
    steps = [(e["action"], e["status_from"], e["status_to"]) for e in detail["events"]]
    assert steps == [
        ("filed", None, "submitted"),
        ("accepted", "submitted", "with_provider"),
        ("answered_confirmed", "with_provider", "closed"),
    ]
    notices = client.get(f"{API}/notices", headers=firm).json()
    assert [n["action"] for n in notices] == ["answered_confirmed", "accepted", "filed"]
    assert all(n["read_at"] is None for n in notices)
    assert client.post(f"{API}/notices/read", headers=firm).status_code == 204
    assert all(n["read_at"] for n in client.get(f"{API}/notices", headers=firm).json())


def test_overdue_objections_are_escalated_once(
    client: TestClient,
    firm: dict[str, str],
    operator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    filed = _file(client, firm)
    on_time = client.post(f"{API}/sweep", headers=operator).json()
    assert on_time["escalated_objections"] == 0
    set_clock(monkeypatch, EVE_OF_NATIONAL_DAY + timedelta(days=10))  # Oct 10: past Oct 9
    late = client.post(f"{API}/sweep", headers=operator).json()
    assert late["escalated_objections"] == 1
    assert client.post(f"{API}/sweep", headers=operator).json()["escalated_objections"] == 0
    board = client.get(f"{API}/deadlines", headers=operator).json()
    [row] = [b for b in board if b["case_id"] == filed["id"]]
    assert (row["overdue"], row["escalated"], row["due_date"]) == (True, True, "2026-10-09")
    detail = client.get(f"{API}/objections/{filed['id']}", headers=firm).json()
    assert detail["objection"]["overdue"] is True
    assert detail["events"][-1]["action"] == "escalated"


def test_an_objection_needs_the_commitment_in_force_and_a_real_record(
    client: TestClient, firm: dict[str, str]
) -> None:
    stale = client.post(
        f"{API}/objections",
        json=objection_body(commitment={"version": "2026.1", "sha256": "0" * 64}),
        headers=firm,
    )
    assert stale.status_code == 409
    assert stale.json()["error"] == "stale_commitment"
    missing = client.post(
        f"{API}/objections", json=objection_body(record_key=f"{FIRM}\x1fnone"), headers=firm
    )
    assert (missing.status_code, missing.json()["details"]["field"]) == (404, "record_key")
    bad_field = client.post(
        f"{API}/objections", json=objection_body(fields=["no_such_field"]), headers=firm
    )
    assert (bad_field.status_code, bad_field.json()["details"]["field"]) == (422, "fields")
    assert client.get(f"{API}/objections", headers=firm).json() == []  # nothing was written


def test_one_open_objection_per_record(client: TestClient, firm: dict[str, str]) -> None:
    _file(client, firm)
    second = client.post(f"{API}/objections", json=objection_body(), headers=firm)
    assert (second.status_code, second.json()["error"]) == (409, "invalid_transition")


def test_other_parties_see_nothing_of_an_objection(
    client: TestClient,
    firm: dict[str, str],
    headers: Callable[[str, str], dict[str, str]],
) -> None:
    filed = _file(client, firm)
    other = headers("enterprise", OTHER_FIRM)
    assert client.get(f"{API}/objections/{filed['id']}", headers=other).status_code == 404
    assert client.get(f"{API}/objections", headers=other).json() == []
    # a provider sees an objection only once it is routed to it, and only its own
    assert client.get(f"{API}/objections", headers=headers("provider", "ndrc")).json() == []
    other_provider = headers("provider", "samr")
    assert client.get(f"{API}/objections/{filed['id']}", headers=other_provider).status_code == 404


def test_objecting_to_another_enterprises_record_is_not_possible(
    client: TestClient, headers: Callable[[str, str], dict[str, str]]
) -> None:
    other = headers("enterprise", OTHER_FIRM)
    r = client.post(
        f"{API}/objections",
        json=objection_body(record_key=KEY, commitment=commitment_echo()),
        headers=other,
    )
    assert r.status_code == 404  # OTHER_FIRM has no such record; FIRM's is not looked up


def test_the_deadline_calendar_knows_2026_make_up_workdays() -> None:
    """Saturday 2026-10-10 is a working day (调休 for National Day); Sunday Oct 11 is not."""
    from rongxin.rights.calendar import load_calendar

    cal = load_calendar()
    assert cal.is_working_day(date(2026, 10, 10))
    assert not cal.is_working_day(date(2026, 10, 11))
    assert not cal.is_working_day(date(2026, 10, 5))  # a weekday inside the holiday
    assert cal.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 9)) == 2
