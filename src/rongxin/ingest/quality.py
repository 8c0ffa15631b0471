"""Data quality (S4): measured on every batch, summarised per provider and item.

- completeness: share of optional field values present (required fields are enforced);
- validity: share of rows passing every rule;
- timeliness: days from the event date to receipt (median and 90th percentile);
- duplicate rate: share of rows repeating a natural key within the batch;
- unchanged rate: share of rows the platform already had unchanged (re-sent data, N3).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from rongxin.catalog.schemas import FieldType, Item
from rongxin.ingest.models import BatchQuality, IngestBatch
from rongxin.ingest.schemas import BatchStatus, QualityPoint, QualityRow
from rongxin.ingest.validation import Problems


def event_dates(frame: pl.DataFrame, item: Item) -> pl.Series | None:
    """The event date of each row of a typed frame (a month counts from its first day)."""
    name = item.event_date_field
    if name is None or name not in frame.columns:
        return None
    col = frame[name]
    if item.field(name).type is FieldType.month:
        return (col + "-01").str.to_date("%Y-%m-%d", strict=False)
    return col


def measure(
    *,
    item: Item,
    raw: pl.DataFrame,
    typed: pl.DataFrame | None,
    problems: Problems,
    received: datetime,
    unchanged: int = 0,
) -> BatchQuality:
    """Quality of one batch from the raw text frame and, when it was valid, the typed frame."""
    rows = raw.height
    optional = [f.name for f in item.fields if not f.required and f.name in raw.columns]
    completeness = 1.0
    if rows and optional:
        present = raw.select(pl.col(c).is_not_null().sum() for c in optional).sum_horizontal()
        completeness = int(present.item()) / (rows * len(optional))
    validity = 1.0 - problems.bad_rows / rows if rows else 1.0
    # counted once, by validation, on the typed keys (so "2025-1" and "2025-01" are one key)
    dup_rate = problems.duplicate_rows / rows if rows else 0.0
    median = p90 = None
    dates = event_dates(typed, item) if typed is not None else None
    if dates is not None:
        lag = (
            pl.DataFrame({"d": dates})
            .select((pl.lit(received.date()) - pl.col("d")).dt.total_days())
            .to_series()
            .drop_nulls()
        )
        if lag.len():
            median = float(lag.median())  # type: ignore[arg-type]
            p90 = float(lag.quantile(0.9))  # type: ignore[arg-type]
    return BatchQuality(
        rows=rows,
        completeness=round(completeness, 6),
        validity=round(validity, 6),
        timeliness_median_days=median,
        timeliness_p90_days=p90,
        duplicate_rate=round(dup_rate, 6),
        unchanged_rate=round(unchanged / rows, 6) if rows else 0.0,
    )


def _weighted(col: Any) -> ColumnElement[Any]:
    q = BatchQuality
    return func.sum(col * q.rows) / func.nullif(func.sum(q.rows), 0)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def quality_report(
    session: Session, *, provider: str | None = None, item: str | None = None
) -> list[QualityRow]:
    """Per provider and item: batch counts and row-weighted quality over all batches."""
    b, q = IngestBatch, BatchQuality
    stmt = (
        select(
            b.provider_code,
            b.item_code,
            func.count(b.id),
            _count_if(b.status == BatchStatus.committed.value),
            _count_if(b.status == BatchStatus.rejected.value),
            func.coalesce(func.sum(q.rows), 0),
            _weighted(q.completeness),
            _weighted(q.validity),
            func.avg(q.timeliness_median_days),
            _weighted(q.duplicate_rate),
            _weighted(q.unchanged_rate),
            func.max(b.received_at),
        )
        .outerjoin(q, q.batch_id == b.id)
        .group_by(b.provider_code, b.item_code)
        .order_by(b.provider_code, b.item_code)
    )
    if provider:
        stmt = stmt.where(b.provider_code == provider)
    if item:
        stmt = stmt.where(b.item_code == item)
    return [
        QualityRow(
            provider_code=prov,
            item_code=code,
            batches=n,
            committed=int(ok or 0),
            rejected_batches=int(bad or 0),
            rows=int(rows or 0),
            completeness=_round(comp),
            validity=_round(val),
            timeliness_median_days=_round(timely),
            duplicate_rate=_round(dup),
            unchanged_rate=_round(unch),
            last_received_at=_utc(last),
        )
        for (prov, code, n, ok, bad, rows, comp, val, timely, dup, unch, last) in session.execute(
            stmt
        )
    ]


def quality_trend(
    session: Session, *, provider: str, item: str | None = None, limit: int = 200
) -> list[QualityPoint]:
    """Quality of a provider's latest batches, oldest first (the trend chart's points)."""
    b, q = IngestBatch, BatchQuality
    stmt = (
        select(b, q)
        .join(q, q.batch_id == b.id)
        .where(b.provider_code == provider)
        .order_by(b.received_at.desc())
        .limit(limit)
    )
    if item:
        stmt = stmt.where(b.item_code == item)
    points = [
        QualityPoint(
            batch_id=batch.id,
            received_at=batch.received_at,
            status=BatchStatus(batch.status),
            rows=qual.rows,
            completeness=qual.completeness,
            validity=qual.validity,
            timeliness_median_days=qual.timeliness_median_days,
        )
        for batch, qual in session.execute(stmt)
    ]
    return points[::-1]


def _round(value: object) -> float | None:
    return None if value is None else round(float(value), 6)  # type: ignore[arg-type]


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite returns max() of a timestamp column as text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
