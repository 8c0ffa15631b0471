"""Rights tables: credit commitments, objections, repair applications, their one event history,
attachments (evidence files) and notices to the enterprise.

Objections and repair applications are *cases* about one credit record (``uscc``,
``item_code``, ``record_key``, the version concerned). Every state change of a case adds a
``rights_event`` row (rows are only inserted), and each step the enterprise should know about
adds a ``subject_notice``. A record's own status (disputed, annotated, repaired, expired) is a
new version of the record (``rongxin.records.service.change_status``), so reports, ratings and
batch push see it through the change sequence like any other change.

Actors are recorded by kind and code (and user id for people), never by a person's name.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from rongxin.db.base import Base, UTCDateTime, utcnow

BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class CreditCommitment(Base):
    """A signed credit commitment (信用承诺): the text's version and hash, who signed, for
    what; the operator may record it as broken (违诺)."""

    __tablename__ = "credit_commitment"
    __table_args__ = (Index("ix_credit_commitment_uscc", "uscc", "signed_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, doc="uuid4 hex")
    uscc: Mapped[str] = mapped_column(String(18))
    version: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    context: Mapped[str] = mapped_column(String(16), doc="self_report | objection | repair")
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    signed_by: Mapped[str] = mapped_column(String(64), doc="user id or credential id")
    status: Mapped[str] = mapped_column(String(16), default="in_force")
    broken_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    broken_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    broken_note: Mapped[str | None] = mapped_column(String(500), nullable=True)


class Objection(Base):
    """An objection (异议) to one credit record (DOMAIN.md §6)."""

    __tablename__ = "objection"
    __table_args__ = (
        Index("ix_objection_subject", "uscc", "filed_at"),
        Index("ix_objection_record", "uscc", "item_code", "record_key", "status"),
        Index("ix_objection_provider", "provider_code", "status"),
        Index("ix_objection_status", "status", "filed_at"),
        # at most one open objection per record, on every engine: set while open, NULL after
        Index("uq_objection_open_key", "open_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, doc="uuid4 hex")
    uscc: Mapped[str] = mapped_column(String(18))
    item_code: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(512))
    record_version: Mapped[int] = mapped_column(Integer, doc="the version objected to")
    provider_code: Mapped[str] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(
        String(500), default="", doc="disputed fields, comma-separated"
    )
    reason: Mapped[str] = mapped_column(Text)
    commitment_id: Mapped[str] = mapped_column(String(32))
    rule_code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    open_key: Mapped[str | None] = mapped_column(
        String(600), nullable=True, doc="uscc, item and record key while open; NULL once closed"
    )
    prior_status: Mapped[str | None] = mapped_column(
        String(16), nullable=True, doc="the record's status before the 异议中 flag (restored)"
    )
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    filed_by: Mapped[str] = mapped_column(String(64))
    accept_due_date: Mapped[date] = mapped_column(Date)
    final_due_date: Mapped[date] = mapped_column(Date)
    provider_due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    escalated_step: Mapped[str | None] = mapped_column(
        String(16), nullable=True, doc="the step escalated last (accept | provider_answer)"
    )
    platform_note: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    check_result: Mapped[str | None] = mapped_column(
        String(2000), nullable=True, doc="the providing department's check (核查结果)"
    )
    corrected_version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RepairApplication(Base):
    """An application for credit repair (信用修复) of one record (DOMAIN.md §5)."""

    __tablename__ = "repair_application"
    __table_args__ = (
        Index("ix_repair_application_subject", "uscc", "filed_at"),
        Index("ix_repair_application_record", "uscc", "item_code", "record_key", "status"),
        Index("ix_repair_application_status", "status", "filed_at"),
        Index("uq_repair_application_open_key", "open_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, doc="uuid4 hex")
    uscc: Mapped[str] = mapped_column(String(18))
    item_code: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(512))
    record_version: Mapped[int] = mapped_column(Integer)
    provider_code: Mapped[str] = mapped_column(String(64))
    rule_code: Mapped[str] = mapped_column(String(64))
    tier: Mapped[str] = mapped_column(String(16))
    decision_date: Mapped[date] = mapped_column(Date)
    repairable_from: Mapped[date] = mapped_column(Date)
    published_until: Mapped[date] = mapped_column(Date)
    correction: Mapped[str] = mapped_column(Text, doc="how the conduct was corrected")
    commitment_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    open_key: Mapped[str | None] = mapped_column(
        String(600), nullable=True, doc="uscc, item and record key while under review"
    )
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    filed_by: Mapped[str] = mapped_column(String(64))
    review_due_date: Mapped[date] = mapped_column(Date)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reviewer_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reviewer_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    review_note: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    repaired_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RightsEvent(Base):
    """One step of an objection or repair application (inserted only)."""

    __tablename__ = "rights_event"
    __table_args__ = (Index("ix_rights_event_case", "case_kind", "case_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    case_kind: Mapped[str] = mapped_column(String(16), doc="objection | repair")
    case_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    status_from: Mapped[str | None] = mapped_column(String(16), nullable=True)
    status_to: Mapped[str] = mapped_column(String(16))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_code: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(2000), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RightsAttachment(Base):
    """An evidence file of a case or of self-reported information, stored in the database so
    that it commits (or not) with what it belongs to."""

    __tablename__ = "rights_attachment"
    __table_args__ = (Index("ix_rights_attachment_owner", "owner_kind", "owner_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, doc="uuid4 hex")
    uscc: Mapped[str] = mapped_column(String(18))
    owner_kind: Mapped[str] = mapped_column(String(16), doc="objection | repair | self_report")
    owner_id: Mapped[str] = mapped_column(String(600))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SubjectNotice(Base):
    """A notice to the enterprise about one step of its case (站内通知)."""

    __tablename__ = "subject_notice"
    __table_args__ = (Index("ix_subject_notice_uscc", "uscc", "created_at"),)

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    uscc: Mapped[str] = mapped_column(String(18))
    case_kind: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
