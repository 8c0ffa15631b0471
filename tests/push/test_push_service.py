"""Batch push: cursor semantics, filters, the G5 scope rule and the file formats."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx2
import pytest
from push_factories import delivered_rows, deliveries, entity, read_rows, subscribe
from record_factories import create_record
from sqlalchemy.orm import Session

from conftest import T0
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.errors import InvalidInput, NotFound
from rongxin.push import service, subscriptions
from rongxin.push.schemas import DeliveryStatus, FileFormat, RunSummary, SubscriptionStatus


def _run(
    session: Session,
    catalog: Catalog,
    settings: Settings,
    http_client: httpx2.Client,
    *,
    minutes: int = 0,
) -> RunSummary:
    return service.run_once(
        session,
        catalog=catalog,
        settings=settings,
        now=T0 + timedelta(minutes=minutes),
        http_client=http_client,
    )


def test_each_round_delivers_exactly_the_new_versions_in_order(
    session: Session, catalog: Catalog, settings: Settings, http_client: httpx2.Client
) -> None:
    firm = entity(session)
    before = create_record(session, uscc=firm.uscc)  # before the subscription: not delivered
    sub = subscribe(session, catalog)
    assert sub.cursor >= before.change_seq

    expected: list[int] = []
    earlier = []
    for round_no in range(1, 4):
        new = [create_record(session, uscc=firm.uscc) for _ in range(round_no)]
        if earlier:  # a changed record: its new version is delivered once more
            key = earlier[0].payload["decision_no"]
            new.append(
                create_record(
                    session, uscc=firm.uscc, payload={"decision_no": key, "severity": "严重"}
                )
            )
        earlier += new
        summary = _run(session, catalog, settings, http_client, minutes=round_no)
        assert (summary.delivered, summary.records) == (1, len(new))
        last = deliveries(session, sub.id)[-1]
        assert (last.status, last.record_count) == (DeliveryStatus.delivered, len(new))
        assert (last.from_seq, last.to_seq) == (
            expected[-1] if expected else sub.cursor,
            new[-1].change_seq,
        )
        expected += [r.change_seq for r in new]

    rows = delivered_rows(session, settings, sub.id)
    assert [int(r["change_seq"]) for r in rows] == expected  # nothing twice, nothing missed
    assert expected == sorted(expected)
    versions = [r["version"] for r in rows if r["payload"].get("severity") == "严重"]
    assert versions == ["2", "3"]  # the same record changed twice
    current = subscriptions.get_subscription(session, subscription_id=sub.id)
    assert current.cursor == expected[-1]

    quiet = _run(session, catalog, settings, http_client, minutes=10)
    assert (quiet.subscriptions, quiet.delivered) == (1, 0)
    assert len(deliveries(session, sub.id)) == 3


def test_pages_of_batch_size_become_consecutive_deliveries(
    session: Session, catalog: Catalog, settings: Settings, http_client: httpx2.Client
) -> None:
    firm = entity(session)
    sub = subscribe(session, catalog, file_format=FileFormat.csv)
    records = [create_record(session, uscc=firm.uscc) for _ in range(5)]
    small = settings.model_copy(update={"push_batch_size": 2})

    summary = _run(session, catalog, small, http_client)

    assert [r.record_count for r in summary.results] == [2, 2, 1]
    ranges = [(d.from_seq, d.to_seq) for d in deliveries(session, sub.id)]
    seqs = [r.change_seq for r in records]
    assert ranges == [(sub.cursor, seqs[1]), (seqs[1], seqs[3]), (seqs[3], seqs[4])]
    assert [int(r["change_seq"]) for r in delivered_rows(session, small, sub.id)] == seqs
    names = [d.file_name for d in deliveries(session, sub.id)]
    assert names[0] == f"{sub.cursor:012d}-{seqs[1]:012d}.csv"


def test_filters_by_region_industry_and_category(
    session: Session, catalog: Catalog, settings: Settings, http_client: httpx2.Client
) -> None:
    fuzhou_c = entity(session, region="350102", section="C")
    xiamen_f = entity(session, region="350203", section="F")
    beijing_c = entity(session, region="110101", section="C")
    fujian_c = subscribe(session, catalog, region_prefix="35", industry_sections=["C"])
    fuzhou = subscribe(session, catalog, region_prefix="3501")
    penalties = subscribe(session, catalog, categories=["penalty"])
    everything = subscribe(session, catalog)

    made = {
        "fuzhou_c": create_record(session, uscc=fuzhou_c.uscc),
        "xiamen_f": create_record(session, uscc=xiamen_f.uscc),
        "beijing_c": create_record(session, uscc=beijing_c.uscc),
        "judgment": create_record(session, item_code="court_judgment", uscc=fuzhou_c.uscc),
        "unknown_entity": create_record(session, uscc="91350100M000100Y43"),
    }
    _run(session, catalog, settings, http_client)

    def got(sub_id: str) -> set[str]:
        seqs = {int(r["change_seq"]) for r in delivered_rows(session, settings, sub_id)}
        return {name for name, rec in made.items() if rec.change_seq in seqs}

    assert got(fujian_c.id) == {"fuzhou_c", "judgment"}
    assert got(fuzhou.id) == {"fuzhou_c", "judgment"}
    assert got(penalties.id) == {"fuzhou_c", "xiamen_f", "beijing_c", "unknown_entity"}
    assert got(everything.id) == set(made)


def test_scope_drops_non_public_items_and_level_3_fields(
    session: Session, catalog: Catalog, settings: Settings, http_client: httpx2.Client
) -> None:
    firm = entity(session)
    sub = subscribe(session, catalog)
    registration = create_record(
        session,
        item_code="registration",
        uscc=firm.uscc,
        payload={
            "name": "福州榕城软件有限公司",
            "legal_rep_name": "林某某",
            "legal_rep_id_number": "350102199001011234",
            "not_in_catalog": "x",
        },
    )
    month = {"period": "2025-12"}
    create_record(session, item_code="tax_payment", uscc=firm.uscc, payload=month)  # authorized
    create_record(session, item_code="annual_report", uscc=firm.uscc)  # on request only
    create_record(session, item_code="social_insurance", uscc=firm.uscc, payload=month)  # level 3
    penalty = create_record(
        session, uscc=firm.uscc, payload={"violation_type": "虚假宣传", "fine_amount": 5000}
    )
    repaired = create_record(
        session,
        uscc=firm.uscc,
        payload={"decision_no": penalty.payload["decision_no"], "violation_type": "虚假宣传"},
        status="repaired",
    )

    _run(session, catalog, settings, http_client)
    rows = delivered_rows(session, settings, sub.id)

    assert {r["item_code"] for r in rows} == {"registration", "admin_penalty"}
    assert [int(r["change_seq"]) for r in rows] == [
        registration.change_seq,
        penalty.change_seq,
        repaired.change_seq,
    ]
    reg = rows[0]
    assert reg["payload"]["legal_rep_name"] == "林某某"
    assert "legal_rep_id_number" not in reg["payload"]
    assert "not_in_catalog" not in reg["payload"]
    assert "350102199001011234" not in str(rows)
    assert rows[1]["payload"]["fine_amount"] == 5000
    withdrawn = rows[2]
    assert (withdrawn["status"], withdrawn["version"]) == ("repaired", "2")
    assert withdrawn["payload"] == {
        "uscc": firm.uscc,
        "decision_no": penalty.payload["decision_no"],
    }
    pushable = service.pushable_items(catalog)
    assert "registration" in pushable
    assert not {"tax_payment", "annual_report", "social_insurance"} & set(pushable)


def test_file_formats_hold_the_same_rows(
    session: Session, catalog: Catalog, settings: Settings, http_client: httpx2.Client
) -> None:
    firm = entity(session)
    subs = {fmt: subscribe(session, catalog, file_format=fmt) for fmt in FileFormat}
    create_record(
        session,
        uscc=firm.uscc,
        payload={"violation_type": '=HYPERLINK("http://127.0.0.1")', "fine_amount": 1.5},
    )
    create_record(session, item_code="honor", uscc=firm.uscc, payload={"grant_date": "2025-03-01"})
    create_record(session, item_code="registration", uscc=firm.uscc, payload={"name": "甲,乙\n丙"})

    _run(session, catalog, settings, http_client)

    by_format = {fmt: delivered_rows(session, settings, s.id) for fmt, s in subs.items()}
    assert len(by_format[FileFormat.jsonl]) == 3
    assert by_format[FileFormat.csv] == by_format[FileFormat.jsonl]
    assert by_format[FileFormat.xlsx] == by_format[FileFormat.jsonl]
    first = by_format[FileFormat.xlsx][0]
    assert first["payload"]["violation_type"].startswith("=HYPERLINK")
    assert by_format[FileFormat.csv][2]["payload"]["name"] == "甲,乙\n丙"


def test_rerun_after_a_crash_rewrites_the_same_file(
    session: Session, catalog: Catalog, settings: Settings, http_client: httpx2.Client
) -> None:
    firm = entity(session)
    sub = subscribe(session, catalog)
    record = create_record(session, uscc=firm.uscc)

    worker = session.begin_nested()
    _run(session, catalog, settings, http_client)
    (first,) = deliveries(session, sub.id)
    path, _ = subscriptions.delivery_file(session, settings=settings, delivery_id=first.id)
    worker.rollback()  # the worker died before its commit
    assert deliveries(session, sub.id) == []

    _run(session, catalog, settings, http_client)
    (again,) = deliveries(session, sub.id)
    assert again.id == first.id  # receivers dedupe by the delivery id
    assert again.file_name == Path(path).name
    assert [int(r["change_seq"]) for r in read_rows(path)] == [record.change_seq]
    leftovers = [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_subscription_validation(session: Session, catalog: Catalog) -> None:
    with pytest.raises(InvalidInput, match="unknown categories"):
        subscribe(session, catalog, categories=["no_such_category"])
    with pytest.raises(InvalidInput, match="no public items"):
        subscribe(session, catalog, categories=["social_insurance"])
    with pytest.raises(InvalidInput, match="http"):
        subscribe(session, catalog, webhook_url="ftp://127.0.0.1/x")
    with pytest.raises(NotFound):
        subscriptions.get_subscription(session, subscription_id="nope")


def test_paused_subscriptions_are_skipped_and_delete_removes_the_log(
    session: Session, catalog: Catalog, settings: Settings, http_client: httpx2.Client
) -> None:
    firm = entity(session)
    sub = subscribe(session, catalog)
    record = create_record(session, uscc=firm.uscc)
    paused = subscriptions.pause_subscription(session, subscription_id=sub.id, reason="audit")
    assert (paused.status, paused.paused_reason) == (SubscriptionStatus.paused, "audit")

    assert _run(session, catalog, settings, http_client).subscriptions == 0
    subscriptions.resume_subscription(session, subscription_id=sub.id, now=T0)
    assert _run(session, catalog, settings, http_client).records == 1
    assert subscriptions.get_subscription(session, subscription_id=sub.id).cursor == (
        record.change_seq
    )

    with pytest.raises(NotFound):
        subscriptions.delete_subscription(session, subscription_id=sub.id, institution_code="b")
    subscriptions.delete_subscription(session, subscription_id=sub.id)
    with pytest.raises(NotFound):
        subscriptions.list_deliveries(session, subscription_id=sub.id)


def test_a_file_that_cannot_be_written_is_retried_not_lost(
    session: Session, catalog: Catalog, settings: Settings, http_client: httpx2.Client
) -> None:
    firm = entity(session)
    sub = subscribe(session, catalog, file_format=FileFormat.xlsx)
    create_record(session, uscc=firm.uscc, payload={"violation_facts": "事实" * 20_000})

    summary = _run(session, catalog, settings, http_client)

    assert (summary.delivered, summary.retrying) == (0, 1)
    (delivery,) = deliveries(session, sub.id)
    assert delivery.status is DeliveryStatus.pending
    assert delivery.file_name is None
    assert delivery.last_error is not None
    assert "longer than an XLSX cell" in delivery.last_error
    assert subscriptions.get_subscription(session, subscription_id=sub.id).cursor == sub.cursor
