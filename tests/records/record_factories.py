"""Typed factories for credit records and batches (tests only).

``create_record`` keeps the store's invariants: a record with the same item and natural key as
a current one becomes its next version, and the old version stops being current.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rongxin.catalog import service as catalog_service
from rongxin.ingest.models import IngestBatch
from rongxin.records.models import CreditRecord

KEY_SEPARATOR = "\x1f"


def create_batch(session: Session, **overrides: Any) -> IngestBatch:
    values: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "provider_code": "ndrc",
        "item_code": "admin_penalty",
        "source_name": "test.csv",
        "checksum": uuid.uuid4().hex * 2,
        "file_format": "csv",
        "origin_node": "test-node",
        "status": "committed",
        "inserted": 1,  # the batch wrote its record (ingestion's staged path then applies)
        "received_at": datetime(2026, 1, 5, 2, 0, tzinfo=UTC),
        "completed_at": datetime(2026, 1, 5, 2, 1, tzinfo=UTC),
    }
    values.update(overrides)
    batch = IngestBatch(**values)
    session.add(batch)
    session.flush()
    return batch


def create_record(
    session: Session,
    *,
    item_code: str = "admin_penalty",
    uscc: str = "91350100M000100Y43",
    payload: dict[str, Any] | None = None,
    batch: IngestBatch | None = None,
    **overrides: Any,
) -> CreditRecord:
    """A current record; ``payload`` is merged over the item's key fields' sample values."""
    item = catalog_service.load_catalog().item(item_code)
    body: dict[str, Any] = {"uscc": uscc}
    body.update(payload or {})
    for key in item.natural_key:
        body.setdefault(key, f"{key}-{uuid.uuid4().hex[:8]}")
    record_key = KEY_SEPARATOR.join(str(body[k]) for k in item.natural_key)
    previous = session.scalars(
        select(CreditRecord).where(
            CreditRecord.item_code == item_code,
            CreditRecord.record_key == record_key,
            CreditRecord.is_current.is_(True),
        )
    ).first()
    if previous is not None:
        previous.is_current = False
    batch = batch or create_batch(session, item_code=item_code, provider_code=item.provider)
    event = body.get(item.event_date_field) if item.event_date_field else None
    event_date = (
        date.fromisoformat(event + "-01" if len(event) == 7 else event)
        if isinstance(event, str)
        else event
    )
    values: dict[str, Any] = {
        "item_code": item_code,
        "uscc": uscc,
        "record_key": record_key,
        "version": previous.version + 1 if previous else 1,
        "is_current": True,
        "payload": body,
        "event_date": event_date,
        "status": "published",
        "provider_code": item.provider,
        "batch_id": batch.id,
        "provider_record_id": None,
        "origin_node": "test-node",
        "received_at": datetime(2026, 1, 5, 2, 0, tzinfo=UTC),
    }
    values.update(overrides)
    record = CreditRecord(**values)
    session.add(record)
    session.flush()
    return record


def electricity_bill(
    session: Session, *, uscc: str, account_no: str = "3501000012347788"
) -> CreditRecord:
    """A June 2025 electricity bill of ``uscc`` (an authorized item with a masked account
    number), paid in full."""
    return create_record(
        session,
        item_code="electricity",
        uscc=uscc,
        payload={
            "account_no": account_no,
            "period": "2025-06",
            "consumption": 1200.5,
            "amount_due": 980.0,
            "amount_paid": 980.0,
            "overdue_days": 0,
        },
        event_date=date(2025, 6, 1),
    )
