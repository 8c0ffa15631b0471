"""Reading credit records. These functions are the only readers of ``credit_record`` outside
ingestion; the access-policy choke point (issue: access) wraps them, and a test fails if any
other module selects the record tables directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import Row, String, Text, bindparam, cast, func, insert, literal, select, text
from sqlalchemy.orm import Session

from rongxin.db.base import UTCDateTime, utcnow
from rongxin.db.bulk import bulk_insert, fetch_tuples
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
    with_key: bool = False,
    usccs: Sequence[str] | None = None,
) -> pl.DataFrame:
    """The current records of ``item_codes`` about every entity, in long form for columnar
    evaluation: ``uscc, item_code, event_date`` and one text column ``f_<name>`` per payload
    field in ``fields`` (NULL where a record's item has no such field); with ``with_key``
    also ``record_key``, ``version`` and ``status``.

    One pass over the table, plain text columns (no per-row type conversion); the payloads
    are decoded column-wise by Polars and the engine does the rest (``rongxin.rating``).
    """
    keys = (CreditRecord.record_key, CreditRecord.version, CreditRecord.status) if with_key else ()
    stmt = select(
        CreditRecord.uscc,
        CreditRecord.item_code,
        cast(CreditRecord.event_date, String(10)),
        cast(CreditRecord.payload, Text),
        *keys,
    ).where(
        CreditRecord.item_code.in_(list(item_codes)),
        CreditRecord.is_current.is_(True),
        CreditRecord.status.in_([s.value for s in statuses]),
    )
    if usccs is not None:
        stmt = stmt.where(CreditRecord.uscc.in_(list(usccs)))
    rows = fetch_tuples(session, stmt)
    schema: dict[str, Any] = dict.fromkeys(
        ("uscc", "item_code", "event_date", "payload"), pl.String
    )
    if with_key:
        schema |= {"record_key": pl.String, "version": pl.Int64, "status": pl.String}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    columns = [
        pl.col("uscc"),
        pl.col("item_code"),
        pl.col("event_date").str.to_date("%Y-%m-%d", strict=False),
    ]
    if with_key:
        columns += [pl.col("record_key"), pl.col("version"), pl.col("status")]
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


# ---- the one writer of status changes ----------------------------------------------------------


def change_status(
    session: Session,
    *,
    uscc: str,
    item_code: str,
    record_key: str,
    status: RecordStatus,
    expected_version: int | None = None,
    from_statuses: Sequence[RecordStatus] | None = None,
) -> RecordView | None:
    """A new version of a record with the same content and another status (an objection opens
    or ends, a repair is approved, the publicity period ends). The old version is kept; the new
    one takes the next change sequence, so batch push, ratings and reports follow it like any
    other change. Returns the new version (or the current one when it already has ``status``).

    ``from_statuses``: change only a record that has one of these statuses now; otherwise
    nothing changes and the answer is ``None`` (a repaired or expired record is never
    republished by the end of an objection). ``expected_version``: refuse (ValueError) when the
    current version is another one — the record changed since the caller looked at it.
    """
    lock_change_sequence(session)
    current = session.scalars(
        select(CreditRecord)
        .where(
            CreditRecord.uscc == uscc,
            CreditRecord.item_code == item_code,
            CreditRecord.record_key == record_key,
            CreditRecord.is_current.is_(True),
        )
        .with_for_update()
    ).one_or_none()
    if current is None:
        raise LookupError(f"no current record {item_code}/{record_key} about {uscc}")
    if expected_version is not None and current.version != expected_version:
        raise ValueError(
            f"record {item_code}/{record_key} is at version {current.version}, "
            f"not {expected_version}"
        )
    if current.status == status.value:
        return RecordView.model_validate(current)
    if from_statuses is not None and current.status not in {s.value for s in from_statuses}:
        return None
    current.is_current = False
    session.flush()
    # INSERT … SELECT: the payload is copied exactly as stored (its text is what later
    # deliveries are compared with), with the next version and the new status
    r = CreditRecord
    copied = select(
        r.item_code,
        r.uscc,
        r.record_key,
        (r.version + 1).label("version"),
        literal(True).label("is_current"),
        r.payload,
        r.event_date,
        literal(status.value).label("status"),
        r.provider_code,
        r.provider_record_id,
        r.origin_node,
        literal(utcnow(), UTCDateTime()).label("received_at"),
    ).where(r.change_seq == current.change_seq)
    names = [
        "item_code", "uscc", "record_key", "version", "is_current", "payload", "event_date",
        "status", "provider_code", "provider_record_id", "origin_node", "received_at",
    ]  # fmt: skip
    session.execute(insert(r).from_select(names, copied))
    new = session.scalars(
        select(r).where(
            r.uscc == uscc,
            r.item_code == item_code,
            r.record_key == record_key,
            r.version == current.version + 1,
        )
    ).one()
    return RecordView.model_validate(new)


_STATUS_STAGE = (
    "CREATE TEMPORARY TABLE status_stage (uscc VARCHAR(18), record_key VARCHAR(512), "
    "version INTEGER)"
)
_STATUS_CLOSING = (
    "CREATE TEMPORARY TABLE status_closing AS SELECT c.change_seq AS old_seq, c.uscc, "
    "c.record_key FROM status_stage s CROSS JOIN credit_record c "
    "WHERE c.uscc = s.uscc AND c.item_code = :item AND c.record_key = s.record_key "
    "AND c.version = s.version AND c.is_current = TRUE AND c.status <> :status"
)
_STATUS_CLOSE = (
    "UPDATE credit_record SET is_current = FALSE "
    "WHERE change_seq IN (SELECT old_seq FROM status_closing)"
)
_STATUS_INSERT = (
    "INSERT INTO credit_record (item_code, uscc, record_key, version, is_current, payload, "
    "event_date, status, provider_code, batch_id, provider_record_id, origin_node, received_at) "
    "SELECT item_code, uscc, record_key, version + 1, TRUE, payload, event_date, :status, "
    "provider_code, NULL, provider_record_id, origin_node, :received FROM credit_record "
    "WHERE change_seq IN (SELECT old_seq FROM status_closing) ORDER BY change_seq"
)


def change_status_many(
    session: Session, *, item_code: str, keys: pl.DataFrame, status: RecordStatus
) -> pl.DataFrame:
    """:func:`change_status` for many records of one item at once, set-wise inside the
    database (the daily end of publication). ``keys``: ``uscc, record_key, version`` — a record
    changes only while it is still current at that version (else a later sweep sees it again).
    Returns the ``uscc, record_key`` of the records that changed."""
    empty = pl.DataFrame(schema={"uscc": pl.String, "record_key": pl.String})
    if keys.is_empty():
        return empty
    lock_change_sequence(session)
    conn = session.connection()
    for table in ("status_stage", "status_closing"):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    conn.exec_driver_sql(_STATUS_STAGE)
    bulk_insert(session, "status_stage", keys.select("uscc", "record_key", "version"))
    params = {"item": item_code, "status": status.value}
    session.execute(text(_STATUS_CLOSING), params)
    changed = fetch_tuples(session, text("SELECT uscc, record_key FROM status_closing"))
    if changed:
        session.execute(text(_STATUS_CLOSE))
        insert_new = text(_STATUS_INSERT).bindparams(bindparam("received", type_=UTCDateTime()))
        session.execute(insert_new, {"status": status.value, "received": utcnow()})
    for table in ("status_stage", "status_closing"):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    return pl.DataFrame(changed, schema=empty.schema, orient="row")
