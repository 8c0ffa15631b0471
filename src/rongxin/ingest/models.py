"""Delivery batches and their data-quality measurements (S4)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rongxin.db.base import Base, UTCDateTime, utcnow


class IngestBatch(Base):
    """One delivery from a provider for one catalog item (a file or an API upload).

    ``status``: ``received`` (in progress), ``committed`` (records written), ``rejected``
    (nothing written; ``problems`` holds the first errors) or ``duplicate`` (an identical file
    already committed).
    """

    __tablename__ = "ingest_batch"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    provider_code: Mapped[str] = mapped_column(String(64), index=True)
    item_code: Mapped[str] = mapped_column(String(64), index=True)
    source_name: Mapped[str] = mapped_column(String(500))
    checksum: Mapped[str] = mapped_column(String(64), index=True)
    file_format: Mapped[str] = mapped_column(String(16))
    origin_node: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="received")
    duplicate_of: Mapped[str | None] = mapped_column(String(32), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[dict[str, object]] | None] = mapped_column(JSON, nullable=True)


class BatchQuality(Base):
    """Quality of one batch (S4): completeness, validity, timeliness, duplicates."""

    __tablename__ = "batch_quality"

    batch_id: Mapped[str] = mapped_column(
        ForeignKey("ingest_batch.id", ondelete="CASCADE"), primary_key=True
    )
    rows: Mapped[int] = mapped_column(Integer)
    completeness: Mapped[float] = mapped_column(
        Float, doc="share of optional field values present (required fields are checked)"
    )
    validity: Mapped[float] = mapped_column(Float, doc="share of rows passing every rule")
    timeliness_median_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    timeliness_p90_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    duplicate_rate: Mapped[float] = mapped_column(
        Float, doc="share of rows repeating a natural key within the batch"
    )
    unchanged_rate: Mapped[float] = mapped_column(
        Float, doc="share of rows already on the platform unchanged (re-sent data, N3)"
    )
