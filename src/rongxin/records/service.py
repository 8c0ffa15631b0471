"""Reading credit records. These functions are the only readers of ``credit_record`` outside
ingestion; the access-policy choke point (issue: access) wraps them, and a test fails if any
other module selects the record tables directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import Row, String, Text, bindparam, cast, func, select
from sqlalchemy.orm import Session

from rongxin.db.bulk import fetch_tuples
from rongxin.entities.models import MarketEntity
from rongxin.records.models import CreditRecord
from rongxin.records.schemas import VISIBLE_STATUSES, RecordChange, RecordStatus, RecordView


def current_records(
    session: Session,
    *,
    uscc: str,
    item_codes: Sequence[str] | None = None,
    statuses: Sequence[RecordStatus] = VISIBLE_STATUSES,
) -> list[RecordView]:
    """The current version of every record about ``uscc`` (optionally only some items),
    newest event first within each item.

    The hot path of every report: plain column rows (no ORM identity map), turned into views
    without re-validating what the store already validated on the way in.
    """
    params: dict[str, Any] = {"uscc": uscc, "statuses": [s.value for s in statuses]}
    if item_codes is None:
        stmt = _CURRENT_ALL
    else:
        stmt, params["items"] = _CURRENT_OF_ITEMS, list(item_codes)
    rows = session.connection().execute(stmt, params)
    return [_view(row) for row in rows]


_VIEW_COLUMNS = tuple(CreditRecord.__table__.c[name] for name in RecordView.model_fields)
# built once: the statement cache then skips compiling, and the ORM layer is not involved
_CURRENT_ALL = (
    select(*_VIEW_COLUMNS)
    .where(
        CreditRecord.uscc == bindparam("uscc"),
        CreditRecord.is_current.is_(True),
        CreditRecord.status.in_(bindparam("statuses", expanding=True)),
    )
    .order_by(
        CreditRecord.item_code, CreditRecord.event_date.desc(), CreditRecord.change_seq.desc()
    )
)
_CURRENT_OF_ITEMS = _CURRENT_ALL.where(
    CreditRecord.item_code.in_(bindparam("items", expanding=True))
)


def _view(row: Row[Any]) -> RecordView:
    values = row._asdict()
    values["status"] = RecordStatus(values["status"])
    return RecordView.model_construct(**values)


def evaluation_frame(
    session: Session,
    *,
    item_codes: Sequence[str],
    fields: Sequence[str],
    statuses: Sequence[RecordStatus] = VISIBLE_STATUSES,
) -> pl.DataFrame:
    """The current records of ``item_codes`` about every entity, in long form for columnar
    evaluation: ``uscc, item_code, event_date`` and one text column ``f_<name>`` per payload
    field in ``fields`` (NULL where a record's item has no such field).

    One pass over the table, plain text columns (no per-row type conversion); the payloads
    are decoded column-wise by Polars and the engine does the rest (``rongxin.rating``).
    """
    stmt = select(
        CreditRecord.uscc,
        CreditRecord.item_code,
        cast(CreditRecord.event_date, String(10)),
        cast(CreditRecord.payload, Text),
    ).where(
        CreditRecord.item_code.in_(list(item_codes)),
        CreditRecord.is_current.is_(True),
        CreditRecord.status.in_([s.value for s in statuses]),
    )
    rows = fetch_tuples(session, stmt)
    text = dict.fromkeys(("uscc", "item_code", "event_date", "payload"), pl.String)
    frame = pl.DataFrame(rows, schema=text, orient="row")
    columns = [
        pl.col("uscc"),
        pl.col("item_code"),
        pl.col("event_date").str.to_date("%Y-%m-%d", strict=False),
    ]
    if fields:
        decoded = pl.col("payload").str.json_decode(pl.Struct(dict.fromkeys(fields, pl.String)))
        columns += [decoded.struct.field(name).alias(f"f_{name}") for name in fields]
    return frame.select(columns)


def record_history(
    session: Session, *, uscc: str, item_code: str, record_key: str
) -> list[RecordView]:
    """Every version of one record, oldest first (audit, objections)."""
    stmt = (
        select(CreditRecord)
        .where(
            CreditRecord.uscc == uscc,
            CreditRecord.item_code == item_code,
            CreditRecord.record_key == record_key,
        )
        .order_by(CreditRecord.version)
    )
    return [RecordView.model_validate(r) for r in session.scalars(stmt)]


def changes_since(
    session: Session,
    *,
    after_seq: int,
    limit: int = 10_000,
    item_codes: Sequence[str] | None = None,
    region_prefix: str | None = None,
    industry_sections: Sequence[str] | None = None,
) -> list[RecordChange]:
    """Record versions with ``change_seq > after_seq`` in sequence order (batch push, federation).

    Filters by item, by the entity's region (GB/T 2260 prefix) and industry section. Every new
    version appears once; a subscriber that keeps the last ``change_seq`` it received misses
    nothing and receives nothing twice.
    """
    stmt = (
        select(CreditRecord, MarketEntity.region_code, MarketEntity.industry_section)
        .outerjoin(MarketEntity, MarketEntity.uscc == CreditRecord.uscc)
        .where(CreditRecord.change_seq > after_seq)
        .order_by(CreditRecord.change_seq)
        .limit(limit)
    )
    if item_codes is not None:
        stmt = stmt.where(CreditRecord.item_code.in_(list(item_codes)))
    if region_prefix:
        stmt = stmt.where(MarketEntity.region_code.startswith(region_prefix, autoescape=True))
    if industry_sections is not None:
        stmt = stmt.where(MarketEntity.industry_section.in_(list(industry_sections)))
    out: list[RecordChange] = []
    for record, region_code, section in session.execute(stmt):
        view = RecordChange.model_validate(record)
        view.region_code, view.industry_section = region_code, section
        out.append(view)
    return out


CHANGE_SEQUENCE_LOCK = 0x72786368  # "rxch": the advisory lock key of the change sequence


def lock_change_sequence(session: Session) -> None:
    """Serialise writers of ``credit_record`` until the transaction ends.

    On PostgreSQL, sequence values are handed out at insert time, so without this a transaction
    holding lower ``change_seq`` values could commit after one holding higher values has been
    read — and a follower of the sequence (batch push, federation) would skip its records.
    Every writer takes this lock before inserting; SQLite serialises writers by itself.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(CHANGE_SEQUENCE_LOCK)))


def last_change_seq(session: Session) -> int:
    """The highest change sequence on this node (0 when there are no records)."""
    return int(session.scalar(select(func.coalesce(func.max(CreditRecord.change_seq), 0))) or 0)
