"""Monitoring tables. Portable DDL: the same tables on SQLite and PostgreSQL.

- ``alert``: one rule firing for one institution in one window, with its counts and evidence
  (audit-log seq range and sample seqs — codes only, never personal data) and its handling
  (open → acknowledged → closed, by whom, with a note). One alert per (rule, institution,
  window start): a re-scan updates it instead of adding another.
- ``monitoring_cursor``: the last access-log seq the scan has processed.
- ``monitoring_hourly``: reads and refusals per institution per hour, recomputed from the log
  for every hour a scan touches — the trailing baseline of the volume-spike rule, without
  re-reading days of log every few minutes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rongxin.db.base import Base, UTCDateTime

SeqType = BigInteger().with_variant(Integer(), "sqlite")


class Alert(Base):
    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("rule_code", "institution_code", "window_start"),
        Index("ix_alert_status_created", "status", "created_at"),
        Index("ix_alert_institution_window", "institution_code", "window_start"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, doc="uuid4 hex")
    rule_code: Mapped[str] = mapped_column(String(32))
    rule_version: Mapped[str] = mapped_column(String(32))
    institution_code: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime(), doc="exclusive")
    observed: Mapped[int] = mapped_column(Integer, doc="the count the rule compared")
    threshold: Mapped[float] = mapped_column(Float, doc="the count it had to reach")
    baseline: Mapped[float | None] = mapped_column(
        Float, nullable=True, doc="volume spike: trailing mean reads per window"
    )
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, doc="further counts of the window")
    first_seq: Mapped[int] = mapped_column(SeqType, doc="first access-log entry of the evidence")
    last_seq: Mapped[int] = mapped_column(SeqType, doc="last access-log entry of the evidence")
    sample_seqs: Mapped[list[int]] = mapped_column(JSON, doc="up to 20 entries, oldest first")
    related_alert_ids: Mapped[list[str]] = mapped_column(
        JSON, doc="escalation: the alerts that led to it"
    )
    escalation_id: Mapped[str | None] = mapped_column(
        String(32), nullable=True, index=True, doc="the escalation alert that counted this one"
    )
    action_taken: Mapped[str] = mapped_column(
        String(32), default="", doc="escalation: suspended, or why not"
    )
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note: Mapped[str] = mapped_column(String(1000), default="")


class MonitoringCursor(Base):
    __tablename__ = "monitoring_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_seq: Mapped[int] = mapped_column(SeqType)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MonitoringHourly(Base):
    __tablename__ = "monitoring_hourly"

    institution_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    reads: Mapped[int] = mapped_column(Integer)
    denied: Mapped[int] = mapped_column(Integer)
