"""Physical aggregation (物理归集): one delivered file becomes one all-or-nothing batch.

``ingest_file`` validates every row against the catalog column-wise, then upserts by natural key
in one transaction: a new key is inserted (version 1), a changed record becomes a new version
(the old one is kept, no longer current), an identical one is counted ``unchanged``. A file
identical to one already committed (same checksum) is recognised and written as nothing.
Rejected and duplicate batches are recorded too (no records), so a provider's history and the
quality figures are complete. Services flush; the edge commits.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog, Item, SharingMode
from rongxin.db.base import UTCDateTime, utcnow
from rongxin.db.bulk import Progress, bulk_insert, is_postgresql, quiet
from rongxin.entities import registry
from rongxin.ingest import quality
from rongxin.ingest.errors import FileRejected, NotStored, WrongProvider
from rongxin.ingest.models import BatchQuality, IngestBatch
from rongxin.ingest.schemas import BatchRead, BatchResult, BatchStatus, ProblemRead, QualityRead
from rongxin.ingest.validation import (
    ROW,
    Problem,
    Problems,
    Table,
    read_table,
    validate_table,
)
from rongxin.records import service as records_service
from rongxin.records.models import CreditRecord
from rongxin.records.schemas import STICKY_STATUSES

KEY_SEPARATOR = "\x1f"
RECORD_ID_COLUMN = "_record_id"  # optional: the provider's own id for each row
REGISTRY_ITEMS = {registry.REGISTRATION_ITEM, registry.ANNUAL_REPORT_ITEM}
STAGE = "ingest_stage"


def record_key_expr(item: Item) -> pl.Expr:
    """The record key of each row of a validated (typed) frame: the natural-key values as
    text, joined. The one definition: ingestion stages with it, and :func:`record_keys_of`
    reads a delivered file's keys with it."""
    return pl.concat_str(
        [pl.col(k).cast(pl.String) for k in item.natural_key], separator=KEY_SEPARATOR
    )


def record_keys_of(item: Item, path: Path) -> list[str]:
    """The record keys of a file of ``item`` that ingestion accepted, in file order, as the
    store holds them (read and typed exactly as ingestion does: dates, numbers and flags
    become the same text)."""
    typed, problems = validate_table(read_table(path), item)
    if problems.count:
        raise ValueError(f"{path} does not validate as {item.code}; ingest it first")
    return typed.select(record_key_expr(item)).to_series().to_list()


@dataclass(frozen=True, slots=True)
class Delivery:
    """One file a provider delivered for one catalog item."""

    path: Path
    provider_code: str
    item_code: str
    source_name: str | None = None  # what to call it in the history (default: the path)
    encoding: str | None = None  # CSV: utf-8 or gb18030; detected when None
    expected_sha256: str | None = None  # from a manifest
    #: a file identical to an earlier batch's is still ingested row by row (single records
    #: written for a person, where going back to earlier content is a real change)
    same_file_again: bool = False


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _new_batch(delivery: Delivery, checksum: str, node: str, fmt: str) -> IngestBatch:
    return IngestBatch(
        id=uuid.uuid4().hex,
        provider_code=delivery.provider_code,
        item_code=delivery.item_code,
        source_name=(delivery.source_name or str(delivery.path))[-500:],
        checksum=checksum,
        file_format=fmt,
        origin_node=node,
        status="received",
        received_at=utcnow(),
    )


def _result(
    batch: IngestBatch,
    *,
    table: Table | None = None,
    qual: BatchQuality | None = None,
    problems: Problems | None = None,
    ignored: list[str] | None = None,
    registry_counts: dict[str, int] | None = None,
) -> BatchResult:
    shown = problems.first() if problems else []
    return BatchResult(
        **BatchRead.model_validate(batch).model_dump(),
        encoding=table.encoding if table else None,
        quality=QualityRead.model_validate(qual) if qual is not None else None,
        problems=[ProblemRead.model_validate(p.to_dict()) for p in shown],
        problem_count=problems.count if problems else 0,
        ignored_columns=ignored or [],
        registry=registry_counts,
    )


def ingest_file(
    session: Session,
    *,
    catalog: Catalog,
    delivery: Delivery,
    origin_node: str,
    as_of: date | None = None,
    allow_list: frozenset[str] = frozenset(),
    progress: Progress = quiet,
) -> BatchResult:
    """Validate and upsert one delivered file as one batch (see the module docstring)."""
    item = catalog_service.get_item(catalog, delivery.item_code)
    if item.sharing_mode is not SharingMode.physical:
        raise NotStored(
            f"item {item.code!r} is shared by {item.sharing_mode.value} (接口调用/数据核验): the "
            "platform does not store it; its provider answers at query time "
            "(`rongxin provider serve`, docs/operations.md)",
            item=item.code,
        )
    if item.provider != delivery.provider_code:
        raise WrongProvider(
            f"item {item.code!r} is provided by {item.provider!r}, not "
            f"{delivery.provider_code!r}; a provider delivers only its own items",
            item=item.code,
        )
    fmt = delivery.path.suffix.lower().lstrip(".") or "unknown"
    if not delivery.path.is_file():
        raise FileRejected(f"{delivery.path}: no such file; check the path")
    checksum = file_sha256(delivery.path)
    batch = _new_batch(delivery, checksum, origin_node, fmt)
    session.add(batch)
    session.flush()  # what refers to the batch (problems, quality, records) may follow at once

    if delivery.expected_sha256 and delivery.expected_sha256 != checksum:
        problem = _file_problem(delivery, "checksum does not match the manifest")
        return _reject(session, batch, Problems.of(problem))

    earlier = (
        None
        if delivery.same_file_again
        else session.scalars(
            select(IngestBatch)
            .where(
                IngestBatch.item_code == item.code,
                IngestBatch.checksum == checksum,
                IngestBatch.status == BatchStatus.committed.value,
                IngestBatch.id != batch.id,
            )
            .order_by(IngestBatch.received_at)
            .limit(1)
        ).first()
    )
    if earlier is not None:
        batch.status = BatchStatus.duplicate.value
        batch.duplicate_of = earlier.id
        batch.row_count = batch.unchanged = earlier.row_count
        batch.completed_at = utcnow()
        session.flush()
        return _result(batch)

    try:
        table = read_table(delivery.path, encoding=delivery.encoding)
    except FileRejected as exc:
        return _reject(session, batch, Problems.of(_file_problem(delivery, exc.message)))
    batch.row_count = table.frame.height
    progress("validate", 0, batch.row_count)
    typed, problems = validate_table(table, item, allow_list=allow_list)
    progress("validate", batch.row_count, batch.row_count)
    raw = table.frame
    if problems.count:
        batch_q = quality.measure(
            item=item, raw=raw, typed=None, problems=problems, received=batch.received_at
        )
        return _reject(session, batch, problems, table=table, qual=batch_q)

    known = {f.name for f in item.fields} | {ROW, RECORD_ID_COLUMN}
    ignored = [c for c in raw.columns if c not in known]
    stage = _stage_frame(item, typed, raw)
    counts = _upsert(session, item=item, batch=batch, stage=stage, progress=progress)
    batch.inserted, batch.updated, batch.unchanged = counts
    registry_counts = None
    if item.code in REGISTRY_ITEMS:
        upserted = registry.upsert_entities(
            session,
            registration=typed if item.code == registry.REGISTRATION_ITEM else None,
            annual_report=typed if item.code == registry.ANNUAL_REPORT_ITEM else None,
            origin_node=origin_node,
            as_of=as_of or batch.received_at.date(),
            progress=progress,
        )
        registry_counts = {
            "inserted": upserted.inserted,
            "updated": upserted.updated,
            "unchanged": upserted.unchanged,
        }
    batch_q = quality.measure(
        item=item,
        raw=raw,
        typed=typed,
        problems=problems,
        received=batch.received_at,
        unchanged=batch.unchanged,
    )
    batch_q.batch_id = batch.id
    batch.status = BatchStatus.committed.value
    batch.completed_at = utcnow()
    session.add(batch_q)
    session.flush()
    return _result(
        batch, table=table, qual=batch_q, ignored=ignored, registry_counts=registry_counts
    )


def _file_problem(delivery: Delivery, reason: str) -> Problem:
    return Problem(file=str(delivery.path), line=0, where="file", field="(file)", reason=reason)


def _reject(
    session: Session,
    batch: IngestBatch,
    problems: Problems,
    *,
    table: Table | None = None,
    qual: BatchQuality | None = None,
) -> BatchResult:
    """Record the rejection (no records are written) and return the machine-readable report."""
    batch.status = BatchStatus.rejected.value
    batch.rejected = problems.bad_rows or batch.row_count
    batch.completed_at = utcnow()
    batch.problems = [p.to_dict() for p in problems.first()]
    if qual is not None:
        qual.batch_id = batch.id
        session.add(qual)
    session.flush()
    return _result(batch, table=table, qual=qual, problems=problems)


# ---- building the rows -------------------------------------------------------------------------


def _stage_frame(item: Item, typed: pl.DataFrame, raw: pl.DataFrame) -> pl.DataFrame:
    """record_key, uscc, payload (canonical JSON), event_date, provider_record_id.

    The payload holds every catalog field in catalog order (absent values as null), so the
    same content always gives the same text: a re-delivered record is recognised as unchanged
    by comparing payload texts, exactly (no hash, so no collisions and nothing to compute).
    """
    names = [f.name for f in item.fields]
    frame = typed.select(
        pl.col(ROW).alias("row_no"),
        record_key_expr(item).alias("record_key"),
        pl.col("uscc"),
        pl.struct(names).struct.json_encode().alias("payload"),
    )
    dates = quality.event_dates(typed, item)
    record_ids = (
        raw[RECORD_ID_COLUMN].str.slice(0, 128)
        if RECORD_ID_COLUMN in raw.columns
        else pl.Series([None] * raw.height, dtype=pl.String)
    )
    return frame.with_columns(
        (dates if dates is not None else pl.Series([None] * typed.height, dtype=pl.Date)).alias(
            "event_date"
        ),
        record_ids.alias("provider_record_id"),
    )


# ---- writing -----------------------------------------------------------------------------------


def _has_records(session: Session, item_code: str) -> bool:
    """Whether the item has any record on this node. Records arrive only in committed batches,
    so the small batch table answers (``credit_record`` has no index led by the item)."""
    stmt = (
        select(IngestBatch.id)
        .where(
            IngestBatch.item_code == item_code,
            IngestBatch.status == BatchStatus.committed.value,
            IngestBatch.inserted > 0,
        )
        .limit(1)
    )
    return session.scalar(stmt) is not None


def _upsert(
    session: Session, *, item: Item, batch: IngestBatch, stage: pl.DataFrame, progress: Progress
) -> tuple[int, int, int]:
    """(inserted, updated, unchanged). One transaction: a crash leaves nothing half written."""
    session.flush()  # the batch row must exist before records refer to it
    if stage.height == 0:
        return 0, 0, 0
    records_service.lock_change_sequence(session)
    if not _has_records(session, item.code):
        _insert_fresh(session, item=item, batch=batch, stage=stage, progress=progress)
        return stage.height, 0, 0
    return _insert_staged(session, item=item, batch=batch, stage=stage, progress=progress)


def _insert_fresh(
    session: Session, *, item: Item, batch: IngestBatch, stage: pl.DataFrame, progress: Progress
) -> None:
    """First delivery of an item: every row is version 1; write straight into the table."""
    # Key order: both indexes (item+key+version, uscc+item) then grow at their right edge
    # instead of at random pages, which keeps big loads out of random I/O.
    pg = is_postgresql(session)
    received: object = batch.received_at
    if not pg:  # SQLite stores what SQLAlchemy's types would: ISO text, 0/1
        received = batch.received_at.strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = stage.sort("record_key").select(
        "uscc",
        "record_key",
        "payload",
        "event_date" if pg else pl.col("event_date").cast(pl.String),
        "provider_record_id",
    )
    constants = {
        "item_code": item.code,
        "version": 1,
        "is_current": True if pg else 1,
        "status": "published",
        "provider_code": batch.provider_code,
        "batch_id": batch.id,
        "origin_node": batch.origin_node,
        "received_at": received,
    }
    bulk_insert(
        session, CreditRecord.__tablename__, rows, progress, "write records", constants=constants
    )


# The staged path's SQL. Names are constants; every value is a bound parameter.
_CREATE_STAGE = (
    "CREATE TEMPORARY TABLE ingest_stage (row_no BIGINT, record_key VARCHAR(512), "
    "uscc VARCHAR(18), payload TEXT, event_date DATE, "
    "provider_record_id VARCHAR(128))"
)
_CLASSIFY = (
    "SELECT COUNT(*) - COUNT(c.change_seq), "
    "SUM(CASE WHEN {stored} <> s.payload THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN {stored} = s.payload THEN 1 ELSE 0 END) "
    "FROM ingest_stage s LEFT JOIN credit_record c ON c.uscc = s.uscc "
    "AND c.item_code = :item AND c.record_key = s.record_key AND c.is_current = TRUE"
)
# CROSS JOIN with the conditions in WHERE: SQLite keeps the staged rows as the outer loop (its
# planner has no statistics for a fresh temporary table and may otherwise scan the stage once
# per stored record); PostgreSQL plans it as the same inner join.
_CLOSING = (
    "CREATE TEMPORARY TABLE ingest_closing AS SELECT s.record_key, c.change_seq AS old_seq, "
    "c.version AS old_version, c.status AS old_status "
    "FROM ingest_stage s CROSS JOIN credit_record c "
    "WHERE c.uscc = s.uscc AND c.item_code = :item AND c.record_key = s.record_key "
    "AND c.is_current = TRUE AND {stored} <> s.payload"
)
_CLOSE = (
    "UPDATE credit_record SET is_current = FALSE "
    "WHERE change_seq IN (SELECT old_seq FROM ingest_closing)"
)
_INSERT = (
    "INSERT INTO credit_record (item_code, uscc, record_key, version, is_current, payload, "
    "event_date, status, provider_code, batch_id, provider_record_id, "
    "origin_node, received_at) "
    "SELECT CAST(:item AS VARCHAR(64)), s.uscc, s.record_key, COALESCE(cl.old_version, 0) + 1, "
    "TRUE, {payload}, "
    "s.event_date, {status}, :provider, :batch, s.provider_record_id, "
    ":node, :received FROM ingest_stage s "
    "LEFT JOIN ingest_closing cl ON cl.record_key = s.record_key "
    "WHERE NOT EXISTS (SELECT 1 FROM credit_record c WHERE c.uscc = s.uscc "
    "AND c.item_code = :item AND c.record_key = s.record_key AND c.is_current = TRUE) "
    "ORDER BY s.record_key"
)


# A changed record keeps a status that a new delivery does not end (an open objection, an ended
# publication: rongxin.records.schemas.STICKY_STATUSES); otherwise it is published.
_KEPT_STATUS = (
    "CASE WHEN cl.old_status IN ("
    + ", ".join(f"'{s.value}'" for s in STICKY_STATUSES)
    + ") THEN cl.old_status ELSE 'published' END"
)


def _insert_staged(
    session: Session, *, item: Item, batch: IngestBatch, stage: pl.DataFrame, progress: Progress
) -> tuple[int, int, int]:
    """Later deliveries: stage the rows, classify them against the current versions with set
    operations, close the changed versions and insert new ones — all inside the database."""
    pg = is_postgresql(session)
    conn = session.connection()
    for table in ("ingest_stage", "ingest_closing"):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    conn.exec_driver_sql(_CREATE_STAGE)
    staged = stage if pg else stage.with_columns(pl.col("event_date").cast(pl.String))
    bulk_insert(session, STAGE, staged, progress, "stage")
    if pg:  # autovacuum never analyzes temporary tables: give the planner their size
        conn.exec_driver_sql("ANALYZE ingest_stage")
    params = {"item": item.code}
    # the stored payload's text (PostgreSQL's json type keeps the text exactly as written)
    stored = "CAST(c.payload AS TEXT)" if pg else "c.payload"
    counts = session.execute(text(_CLASSIFY.format(stored=stored)), params).one()
    inserted, updated, unchanged = (int(v or 0) for v in counts)
    if inserted + updated:
        session.execute(text(_CLOSING.format(stored=stored)), params)
        conn.exec_driver_sql("CREATE INDEX ingest_closing_key ON ingest_closing (record_key)")
        if pg:
            conn.exec_driver_sql("ANALYZE ingest_closing")
        session.execute(text(_CLOSE))
        payload = "CAST(s.payload AS JSON)" if pg else "s.payload"
        insert = text(_INSERT.format(payload=payload, status=_KEPT_STATUS)).bindparams(
            bindparam("received", type_=UTCDateTime())
        )
        values = {
            "provider": batch.provider_code,
            "batch": batch.id,
            "node": batch.origin_node,
            "received": batch.received_at,
        }
        session.execute(insert, {**params, **values})
    for table in ("ingest_stage", "ingest_closing"):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    progress("write records", stage.height, stage.height)
    return inserted, updated, unchanged
