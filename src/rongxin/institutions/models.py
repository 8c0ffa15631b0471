"""Onboarding tables. Portable DDL: the same tables on SQLite and PostgreSQL.

- ``institution``: one access institution (接入机构) and its current status, grants (purposes,
  daily quota, regions) and the validity of the assessment in force (copied from it, so that
  the per-request check "is this institution active?" reads one row);
- ``security_assessment``: one assessment against a snapshot of the control set, with its
  assessor, approver (four-eyes), decision, expiry and reassessment due date;
- ``security_assessment_score``: one control's score and evidence reference;
- ``institution_event``: every status change (from, to, actor, at, reason), append-only;
- ``institution_quota_usage``: reads per institution per China-time day.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rongxin.db.base import Base, UTCDateTime, utcnow

BigInt = BigInteger().with_variant(Integer(), "sqlite")


class Institution(Base):
    __tablename__ = "institution"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    license_number: Mapped[str] = mapped_column(String(64))
    contact_department: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(32))
    contact_email: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(24), index=True)
    requested_purposes: Mapped[list[str]] = mapped_column(JSON)
    allowed_purposes: Mapped[list[str]] = mapped_column(JSON, doc="set at approval")
    daily_quota: Mapped[int | None] = mapped_column(Integer, nullable=True)
    regions: Mapped[list[str]] = mapped_column(JSON, doc="GB/T 2260 codes; 000000 = nationwide")
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    assessment_valid_until: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, doc="expiry of the approved assessment in force"
    )
    reassessment_due_date: Mapped[date | None] = mapped_column(Date, nullable=True)


class SecurityAssessment(Base):
    __tablename__ = "security_assessment"
    __table_args__ = (Index("ix_security_assessment_institution", "institution_code", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    institution_code: Mapped[str] = mapped_column(ForeignKey("institution.code"))
    controls_version: Mapped[str] = mapped_column(String(32))
    controls: Mapped[dict[str, Any]] = mapped_column(
        JSON, doc="the control set the assessment is made against (a copy)"
    )
    status: Mapped[str] = mapped_column(String(16))
    assessor: Mapped[str] = mapped_column(String(200))
    approver: Mapped[str | None] = mapped_column(
        String(200), nullable=True, doc="who decided (approved or rejected)"
    )
    note: Mapped[str] = mapped_column(String(1000), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_reason: Mapped[str] = mapped_column(String(1000), default="")
    total_score: Mapped[float] = mapped_column(Float, default=0.0)
    pass_threshold: Mapped[float] = mapped_column(Float)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reassessment_due_date: Mapped[date | None] = mapped_column(Date, nullable=True)


class SecurityAssessmentScore(Base):
    __tablename__ = "security_assessment_score"

    assessment_id: Mapped[str] = mapped_column(
        ForeignKey("security_assessment.id", ondelete="CASCADE"), primary_key=True
    )
    control_code: Mapped[str] = mapped_column(String(48), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    evidence_ref: Mapped[str] = mapped_column(String(500))
    note: Mapped[str] = mapped_column(String(1000), default="")
    scored_by: Mapped[str] = mapped_column(String(200))
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InstitutionEvent(Base):
    __tablename__ = "institution_event"

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    institution_code: Mapped[str] = mapped_column(ForeignKey("institution.code"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    to_status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(String(1000), default="")


class InstitutionQuotaUsage(Base):
    __tablename__ = "institution_quota_usage"

    institution_code: Mapped[str] = mapped_column(ForeignKey("institution.code"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, doc="China-time (UTC+8) day")
    used: Mapped[int] = mapped_column(Integer, default=0)
