from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rongxin.catalog.schemas import Catalog, SharingMode
from rongxin.entities.models import MarketEntity
from rongxin.ingest import history, quality
from rongxin.ingest.errors import NotStored, WrongProvider
from rongxin.ingest.manifest import read_manifest
from rongxin.ingest.models import IngestBatch
from rongxin.ingest.schemas import BatchStatus
from rongxin.ingest.service import Delivery, ingest_file, record_keys_of
from rongxin.records import service as records_service
from rongxin.records.models import CreditRecord


def ingest(session: Session, catalog: Catalog, path: Path, provider: str, item: str, **kw):  # type: ignore[no-untyped-def]
    delivery = Delivery(path=path, provider_code=provider, item_code=item, **kw)
    return ingest_file(session, catalog=catalog, delivery=delivery, origin_node="test-node")


def records(session: Session, item: str) -> int:
    stmt = select(func.count()).select_from(CreditRecord).where(CreditRecord.item_code == item)
    return session.scalar(stmt) or 0


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_first_delivery_inserts_with_provenance(
    session: Session, catalog: Catalog, package: Path
) -> None:
    path = package / "ndrc/admin_penalty.csv"
    expected = len(rows_of(path))
    result = ingest(session, catalog, path, "ndrc", "admin_penalty")
    assert result.status is BatchStatus.committed
    assert (result.row_count, result.inserted, result.updated, result.unchanged) == (
        expected,
        expected,
        0,
        0,
    )
    assert records(session, "admin_penalty") == expected
    first = rows_of(path)[0]
    views = records_service.current_records(
        session, uscc=first["uscc"], item_codes=["admin_penalty"]
    )
    view = next(v for v in views if v.payload["decision_no"] == first["decision_no"])
    assert (view.provider_code, view.batch_id, view.origin_node, view.version) == (
        "ndrc",
        result.id,
        "test-node",
        1,
    )
    assert view.event_date is not None
    assert view.event_date.isoformat() == first["decision_date"]
    assert view.payload["severity"] == first["severity"]
    assert result.quality is not None
    assert result.quality.validity == 1.0


def test_same_file_twice_is_recognised(session: Session, catalog: Catalog, package: Path) -> None:
    path = package / "spc/court_judgment.csv"
    first = ingest(session, catalog, path, "spc", "court_judgment")
    again = ingest(session, catalog, path, "spc", "court_judgment")
    assert again.status is BatchStatus.duplicate
    assert again.duplicate_of == first.id
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.row_count)
    assert records(session, "court_judgment") == first.row_count


def test_overlapping_delivery_versions_changes(
    session: Session, catalog: Catalog, package: Path, tmp_path: Path
) -> None:
    path = package / "spc/court_enforcement.csv"
    rows = rows_of(path)
    ingest(session, catalog, path, "spc", "court_enforcement")
    changed = dict(rows[0], status="执行完毕", amount="12345.67")
    new = dict(rows[1], case_no="（2026）执99999999999号")
    resend = [changed, new, *rows[2:10]]  # 10 rows: 1 changed, 1 new, 8 unchanged
    result = ingest(
        session, catalog, write_rows(tmp_path / "overlap.csv", resend), "spc", "court_enforcement"
    )
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 8)
    assert records(session, "court_enforcement") == len(rows) + 2  # old version kept
    key = "\x1f".join([changed["uscc"], changed["case_no"]])
    versions = records_service.record_history(
        session, uscc=changed["uscc"], item_code="court_enforcement", record_key=key
    )
    assert [(v.version, v.is_current, v.payload["status"]) for v in versions] == [
        (1, False, rows[0]["status"]),
        (2, True, "执行完毕"),
    ]
    assert versions[0].change_seq < versions[1].change_seq
    # a third delivery of the same content changes nothing
    again = ingest(
        session,
        catalog,
        write_rows(tmp_path / "again.csv", [changed, new]),
        "spc",
        "court_enforcement",
    )
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)


def test_corrupt_file_writes_nothing_and_names_row_and_field(
    session: Session, catalog: Catalog, package: Path, tmp_path: Path
) -> None:
    rows = rows_of(package / "ndrc/admin_penalty.csv")[:6]
    rows[1]["uscc"] = rows[1]["uscc"][:-1] + ("0" if rows[1]["uscc"][-1] != "0" else "1")  # line 3
    rows[2]["decision_date"] = "2024-02-30"  # line 4
    rows[3]["severity"] = "很严重"  # line 5
    rows[4]["violation_type"] = ""  # line 6: required
    rows[5]["decision_no"] = rows[0]["decision_no"]  # line 7: duplicate key
    rows[5]["uscc"] = rows[0]["uscc"]
    result = ingest(
        session, catalog, write_rows(tmp_path / "bad.csv", rows), "ndrc", "admin_penalty"
    )
    assert result.status is BatchStatus.rejected
    assert records(session, "admin_penalty") == 0
    found = {(p.line, p.field) for p in result.problems}
    assert {
        (3, "uscc"),
        (4, "decision_date"),
        (5, "severity"),
        (6, "violation_type"),
        (7, "uscc"),
    } <= found
    uscc_problem = next(p for p in result.problems if p.line == 3)
    assert "check_character" in uscc_problem.reason
    assert result.rejected == 5
    assert result.quality is not None
    assert result.quality.validity == pytest.approx(1 / 6, abs=1e-6)
    assert result.quality.duplicate_rate == pytest.approx(1 / 6, abs=1e-6)  # line 7 repeats 2
    stored = history.get_batch(session, batch_id=result.id)
    assert stored.status is BatchStatus.rejected
    assert stored.problems


def test_missing_required_column_is_named(
    session: Session, catalog: Catalog, package: Path, tmp_path: Path
) -> None:
    df = pl.read_csv(package / "ndrc/admin_penalty.csv", infer_schema=False).drop("severity")
    path = tmp_path / "nocol.csv"
    df.write_csv(path)
    result = ingest(session, catalog, path, "ndrc", "admin_penalty")
    assert result.status is BatchStatus.rejected
    assert result.problems[0].line == 1
    assert "required column 'severity'" in result.problems[0].reason


def test_gb18030_jsonl_and_parquet_give_the_same_records(
    session: Session, catalog: Catalog, package: Path, tmp_path: Path
) -> None:
    src = package / "samr/abnormal_operation.csv"
    text = src.read_text("utf-8")
    gb = tmp_path / "gb.csv"
    gb.write_bytes(text.encode("gb18030"))
    frame = pl.read_csv(src, infer_schema=False)
    frame.write_ndjson(tmp_path / "a.jsonl")
    frame.write_parquet(tmp_path / "a.parquet")
    first = ingest(session, catalog, gb, "samr", "abnormal_operation")
    assert first.status is BatchStatus.committed
    assert first.encoding == "gb18030"
    for other in ("a.jsonl", "a.parquet"):
        result = ingest(session, catalog, tmp_path / other, "samr", "abnormal_operation")
        assert result.status is BatchStatus.committed
        assert (result.inserted, result.updated, result.unchanged) == (0, 0, first.row_count), other


def test_undecodable_file_is_rejected(session: Session, catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(b"uscc,name\n\xff\xfe\xfa\x00\x81\x00\n")
    result = ingest(session, catalog, path, "samr", "registration", encoding="utf-8")
    assert result.status is BatchStatus.rejected
    assert "cannot be decoded" in result.problems[0].reason


def test_a_provider_delivers_only_its_own_items(
    session: Session, catalog: Catalog, package: Path
) -> None:
    with pytest.raises(WrongProvider, match="provided by 'ndrc'"):
        ingest(session, catalog, package / "ndrc/admin_penalty.csv", "samr", "admin_penalty")


def test_registration_feeds_the_registry(session: Session, catalog: Catalog, package: Path) -> None:
    reg = ingest(session, catalog, package / "samr/registration.csv", "samr", "registration")
    assert reg.registry == {"inserted": 300, "updated": 0, "unchanged": 0}
    assert session.scalar(select(func.count()).select_from(MarketEntity)) == 300
    ann = ingest(session, catalog, package / "gsxt/annual_report.csv", "gsxt", "annual_report")
    assert ann.registry is not None
    assert ann.registry["updated"] > 200
    sized = session.scalar(
        select(func.count()).select_from(MarketEntity).where(MarketEntity.size_class.is_not(None))
    )
    assert sized == ann.registry["updated"]


def test_manifest_package(session: Session, catalog: Catalog, package: Path) -> None:
    deliveries, skipped = read_manifest(package / "manifest.json", catalog)
    not_stored = {i.code for i in catalog.items if i.sharing_mode is not SharingMode.physical}
    assert not_stored == {
        "tax_credit_rating",
        "tax_payment",
        "rd_expense_deduction",
        "insurance_coverage",
        "real_estate",
        "land_management_right",
    }
    assert {s.item for s in skipped} == {"loan_outcomes"} | not_stored
    manifest = json.loads((package / "manifest.json").read_text("utf-8"))
    expected = {f["item"]: f["rows"] for f in manifest["files"]}
    for d in deliveries:
        result = ingest_file(session, catalog=catalog, delivery=d, origin_node="test-node")
        assert result.status is BatchStatus.committed, (d.item_code, result.problems[:1])
        assert result.inserted == expected[d.item_code]
    total = session.scalar(select(func.count()).select_from(CreditRecord))
    assert total == sum(v for k, v in expected.items() if k not in {"loan_outcomes", *not_stored})
    report = {(r.provider_code, r.item_code): r for r in quality.quality_report(session)}
    assert report[("sat", "tax_arrears")].rows == expected["tax_arrears"]
    assert report[("sat", "tax_arrears")].validity == 1.0


def test_manifest_checksum_mismatch_is_rejected(
    session: Session, catalog: Catalog, package: Path, tmp_path: Path
) -> None:
    deliveries, _ = read_manifest(package / "manifest.json", catalog)
    d = next(x for x in deliveries if x.item_code == "honor")
    tampered = tmp_path / "honor.csv"
    tampered.write_bytes(d.path.read_bytes() + b"\n")
    forged = Delivery(
        path=tampered,
        provider_code=d.provider_code,
        item_code=d.item_code,
        expected_sha256=d.expected_sha256,
    )
    result = ingest_file(session, catalog=catalog, delivery=forged, origin_node="test-node")
    assert result.status is BatchStatus.rejected
    assert "checksum" in result.problems[0].reason
    assert records(session, "honor") == 0


def test_batches_are_listed_newest_first(session: Session, catalog: Catalog, package: Path) -> None:
    a = ingest(session, catalog, package / "cnipa/patent.csv", "cnipa", "patent")
    b = ingest(session, catalog, package / "cnipa/trademark.csv", "cnipa", "trademark")
    page = history.list_batches(session, provider="cnipa")
    assert [x.id for x in page.items][:2] == [b.id, a.id] or {x.id for x in page.items} == {
        a.id,
        b.id,
    }
    assert page.total == session.scalar(
        select(func.count()).select_from(IngestBatch).where(IngestBatch.provider_code == "cnipa")
    )
    trend = quality.quality_trend(session, provider="cnipa")
    assert {p.batch_id for p in trend} == {a.id, b.id}


def test_interface_items_are_not_stored(session: Session, catalog: Catalog, tmp_path: Path) -> None:
    """M2: an interface item's provider answers at query time; a delivery of one is refused."""
    path = tmp_path / "tax_payment.csv"
    path.write_text("uscc,period,tax_type,taxable_revenue,tax_paid,declared_on_time\n", "utf-8")
    delivery = Delivery(path=path, provider_code="sat", item_code="tax_payment")
    with pytest.raises(NotStored, match="does not store it"):
        ingest_file(session, catalog=catalog, delivery=delivery, origin_node="test-node")
    assert session.scalar(select(func.count()).select_from(CreditRecord)) == 0


def _stored_keys(session: Session, item: str, batch_id: str) -> list[str]:
    stmt = select(CreditRecord.record_key).where(
        CreditRecord.item_code == item, CreditRecord.batch_id == batch_id
    )
    return list(session.scalars(stmt))


def test_record_keys_of_a_delivered_file_are_the_keys_the_store_holds(
    session: Session, catalog: Catalog, package: Path, tmp_path: Path
) -> None:
    """Keys read back from a delivered file (rights deliveries name the record they wrote)
    come from the same typed columns as ingestion's, not from the raw text: a date key, and a
    year given as a JSON number, give the text the store holds."""
    uscc = rows_of(package / "samr/registration.csv")[0]["uscc"]
    change = {"uscc": uscc, "change_date": "2026-03-05", "change_item": "住所",
              "before_value": "福州市鼓楼区", "after_value": "福州市台江区"}  # fmt: skip
    item = catalog.item("registration_change")
    change = {k: v for k, v in change.items() if k in {f.name for f in item.fields}}
    path = tmp_path / "registration_change.jsonl"
    path.write_text(json.dumps(change, ensure_ascii=False) + "\n", encoding="utf-8")
    result = ingest(session, catalog, path, "samr", "registration_change")
    assert result.status is BatchStatus.committed, result.problems
    assert _stored_keys(session, "registration_change", result.id) == record_keys_of(item, path)

    report = rows_of(package / "gsxt/annual_report.csv")[0]
    year = {k: v for k, v in report.items() if v != ""} | {
        "report_year": int(report["report_year"])
    }
    year_path = tmp_path / "annual_report.jsonl"
    year_path.write_text(json.dumps(year, ensure_ascii=False) + "\n", encoding="utf-8")
    result = ingest(session, catalog, year_path, "gsxt", "annual_report", same_file_again=True)
    assert result.status is BatchStatus.committed, result.problems
    keys = record_keys_of(catalog.item("annual_report"), year_path)
    assert keys == [f"{report['uscc']}\x1f{report['report_year']}"]
    assert _stored_keys(session, "annual_report", result.id) == keys
    with pytest.raises(ValueError, match="does not validate"):
        record_keys_of(catalog.item("annual_report"), path)  # not an annual report
