"""Credit records. Portable DDL: the same tables on SQLite and PostgreSQL.

A record is one catalog item's row about one entity; its delivery batch lives in
``rongxin.ingest.models``. The payload is JSON shaped by the catalog (the catalog is data: a new
item needs no migration). Every change is a new row: old versions are kept, ``is_current`` marks
the latest, and the row's ``change_seq`` (its primary key) orders all changes on this node
monotonically.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from rongxin.db.base import Base, UTCDateTime, utcnow

BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class CreditRecord(Base):
    """One version of one credit record, with full provenance."""

    __tablename__ = "credit_record"
    __table_args__ = (
        # The table's one secondary index, serving both lookups: a subject's records by
        # (uscc, item_code) for reports, and a key's versions by (uscc, item_code, record_key)
        # for upserts (every natural key includes uscc, so uscc is a function of the key and
        # this is exactly as unique as (item_code, record_key, version)). One B-tree instead of
        # two makes bulk loads a third cheaper to index.
        Index(
            "uq_credit_record_subject_key",
            "uscc",
            "item_code",
            "record_key",
            "version",
            unique=True,
        ),
    )

    change_seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    item_code: Mapped[str] = mapped_column(String(64))
    uscc: Mapped[str] = mapped_column(String(18))
    record_key: Mapped[str] = mapped_column(
        String(512), doc="the item's natural-key values joined by U+001F (exact, no hashing)"
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    event_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="published")
    provider_code: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(
        ForeignKey("ingest_batch.id", ondelete="RESTRICT"), nullable=True
    )
    provider_record_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    origin_node: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
