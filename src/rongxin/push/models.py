"""Batch-push tables. Portable DDL: the same tables on SQLite and PostgreSQL.

A ``push_subscription`` is one institution's standing order (region prefix, industry sections,
catalog categories, file or webhook) with a ``cursor``: the last ``change_seq`` delivered. A
``push_delivery`` covers the changes in ``(from_seq, to_seq]`` for one subscription; its id is
derived from that range, so a delivery re-made after a crash keeps its id (receivers dedupe by it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rongxin.db.base import Base, UTCDateTime, utcnow

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class PushSubscription(Base):
    """One institution's subscription to new and changed records."""

    __tablename__ = "push_subscription"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    institution_code: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    region_prefix: Mapped[str | None] = mapped_column(
        String(6), nullable=True, doc="GB/T 2260 code or prefix (35, 3501, 350102)"
    )
    industry_sections: Mapped[list[str] | None] = mapped_column(
        JSON, nullable=True, doc="GB/T 4754 sections (A–T); NULL = every section"
    )
    categories: Mapped[list[str] | None] = mapped_column(
        JSON, nullable=True, doc="catalog category codes; NULL = every pushable category"
    )
    delivery: Mapped[str] = mapped_column(String(16), doc="file or webhook")
    file_format: Mapped[str | None] = mapped_column(String(8), nullable=True)
    webhook_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    webhook_secret: Mapped[str | None] = mapped_column(
        String(128), nullable=True, doc="HMAC key; shown once at creation, never logged"
    )
    cursor: Mapped[int] = mapped_column(BigInt, default=0, doc="last change_seq delivered")
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paused_reason: Mapped[str | None] = mapped_column(String(1000), nullable=True)


class PushDelivery(Base):
    """One delivery of the changes in ``(from_seq, to_seq]`` to one subscription."""

    __tablename__ = "push_delivery"
    __table_args__ = (Index("ix_push_delivery_subscription_status", "subscription_id", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("push_subscription.id", ondelete="CASCADE")
    )
    from_seq: Mapped[int] = mapped_column(BigInt, doc="exclusive")
    to_seq: Mapped[int] = mapped_column(BigInt, doc="inclusive")
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    file_path: Mapped[str | None] = mapped_column(
        String(500), nullable=True, doc="relative to RONGXIN_DATA_DIR"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
