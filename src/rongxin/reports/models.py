"""The issuance log of credit reports (V2) and the per-provider use of data in each (V1).

Every report handed out — JSON, HTML, PDF, API, web or CLI — is one ``report_issue`` row: who
asked, when, for what purpose, in which format. Each item whose records the report showed adds a
``report_issue_source`` row, so every provider can be told how its data was used
(使用情况反馈). Rows are only ever inserted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rongxin.db.base import Base, UTCDateTime, utcnow


class ReportIssue(Base):
    """One issued report."""

    __tablename__ = "report_issue"
    __table_args__ = (Index("ix_report_issue_uscc_issued", "uscc", "issued_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, doc="the report_id (uuid hex)")
    uscc: Mapped[str] = mapped_column(String(18))
    requester_kind: Mapped[str] = mapped_column(String(16))
    requester_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    purpose: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(8))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    record_count: Mapped[int] = mapped_column(Integer)
    schema_version: Mapped[str] = mapped_column(String(8))


class ReportIssueSource(Base):
    """How many records of one provider's item an issued report showed."""

    __tablename__ = "report_issue_source"
    __table_args__ = (Index("ix_report_issue_source_provider", "provider_code", "item_code"),)

    report_id: Mapped[str] = mapped_column(
        ForeignKey("report_issue.id", ondelete="CASCADE"), primary_key=True
    )
    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider_code: Mapped[str] = mapped_column(String(64))
    record_count: Mapped[int] = mapped_column(Integer)
