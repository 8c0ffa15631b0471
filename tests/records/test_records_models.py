from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rongxin.ingest.models import IngestBatch
from rongxin.records.models import CreditRecord


def _batch(session: Session) -> IngestBatch:
    batch = IngestBatch(
        id="b" * 32, provider_code="samr", item_code="admin_penalty", source_name="p.csv",
        checksum="0" * 64, file_format="csv", origin_node="test-node",
    )  # fmt: skip
    session.add(batch)
    session.flush()
    return batch


def _record(batch: IngestBatch, version: int, amount: float) -> CreditRecord:
    return CreditRecord(
        item_code="admin_penalty", uscc="91350100M000100Y43", record_key="k" * 64,
        version=version, is_current=True, payload={"decision_no": "罚字1号", "fine_amount": amount},
        event_date=date(2025, 3, 1), provider_code="ndrc",
        batch_id=batch.id, provider_record_id="P-1", origin_node="test-node",
        received_at=datetime(2025, 3, 2, 8, 0, tzinfo=timezone(timedelta(hours=8))),
    )  # fmt: skip


def test_versions_keep_provenance_and_order(session: Session) -> None:
    batch = _batch(session)
    first = _record(batch, 1, 1000.0)
    session.add(first)
    session.flush()
    first.is_current = False
    second = _record(batch, 2, 2000.0)
    session.add(second)
    session.flush()
    rows = session.scalars(
        select(CreditRecord)
        .where(CreditRecord.record_key == "k" * 64)
        .order_by(CreditRecord.change_seq)
    ).all()
    assert [r.version for r in rows] == [1, 2]
    assert rows[0].change_seq < rows[1].change_seq
    assert [r.is_current for r in rows] == [False, True]
    assert rows[1].payload["fine_amount"] == 2000.0
    session.expire_all()
    again = session.get(CreditRecord, rows[0].change_seq)
    assert again is not None
    assert again.received_at == datetime(2025, 3, 2, 0, 0, tzinfo=UTC)
    assert again.received_at.tzinfo is not None
    assert (again.provider_code, again.batch_id, again.origin_node) == (
        "ndrc",
        batch.id,
        "test-node",
    )


def test_same_version_twice_is_refused(session: Session) -> None:
    batch = _batch(session)
    session.add(_record(batch, 1, 1.0))
    session.flush()
    session.add(_record(batch, 1, 2.0))
    with pytest.raises(IntegrityError):
        session.flush()


def test_naive_timestamps_are_refused(session: Session) -> None:
    batch = _batch(session)
    rec = _record(batch, 1, 1.0)
    rec.received_at = datetime(2025, 1, 1)
    session.add(rec)
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()


def test_record_must_name_a_real_batch(session: Session) -> None:
    rec = _record(IngestBatch(id="x" * 32), 1, 1.0)
    session.add(rec)
    with pytest.raises(IntegrityError):
        session.flush()
