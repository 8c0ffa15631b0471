"""Enterprise authorizations (经企业授权, note 3 of the policy) and their state history.

An ``authorization`` is one institution's request for one enterprise's data and, once the
enterprise approves it, the terms under which the platform lets the institution read it:
items, purpose, access mode, data date range, retention, validity window (DOMAIN.md §12).
Terms are fixed at request time and never edited; a change is a new authorization that
``supersedes`` the old one (``version`` + 1). The approval carries the hash of the risk notice
the enterprise was shown and a signed canonical record of the approved terms (``evidence_*``).

Every change of ``status`` adds an ``authorization_event`` row (from, to, action, actor, time,
reason); rows are only ever inserted. Actors are recorded by credential or user id and kind,
never by a person's name or ID number.

The table is called ``authorization`` (a reserved word in PostgreSQL: SQLAlchemy quotes it;
quote it in hand-written SQL).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from rongxin.db.base import Base, UTCDateTime, utcnow

BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Authorization(Base):
    """One enterprise authorization (requested, then approved or rejected, …)."""

    __tablename__ = "authorization"
    __table_args__ = (
        # active_authorization(s)(), the policy's lookup on every institution's report: all
        # its equality terms, then the range (else SQLite scans every active authorization)
        Index(
            "ix_authorization_subject",
            "uscc",
            "institution_code",
            "status",
            "purpose",
            "valid_until",
        ),
        Index("ix_authorization_institution", "institution_code", "requested_at"),
        Index("ix_authorization_status_until", "status", "valid_until"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, doc="uuid4 hex")
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[str | None] = mapped_column(
        ForeignKey("authorization.id"), nullable=True, doc="the authorization this one replaces"
    )
    uscc: Mapped[str] = mapped_column(String(18), doc="the enterprise (information subject)")
    institution_code: Mapped[str] = mapped_column(String(64))
    loan_application_ref: Mapped[str] = mapped_column(
        String(64), doc="the product or loan application the authorization serves"
    )
    purpose: Mapped[str] = mapped_column(String(32), doc="rongxin.access.schemas.Purpose")
    template_version: Mapped[str] = mapped_column(
        String(32), doc="the purpose-template set that capped the terms"
    )
    items: Mapped[list[str]] = mapped_column(JSON, doc="catalog item codes, sorted")
    access_mode: Mapped[str] = mapped_column(String(16), doc="view, verify_only or periodic")
    fetch_frequency: Mapped[str | None] = mapped_column(
        String(16), nullable=True, doc="periodic only: daily, weekly, monthly or quarterly"
    )
    data_from_date: Mapped[date] = mapped_column(Date)
    data_to_date: Mapped[date] = mapped_column(Date)
    retention_days: Mapped[int] = mapped_column(
        Integer, doc="how long the institution may keep what it received"
    )
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime(), doc="exclusive")
    reconfirm_days: Mapped[int | None] = mapped_column(
        Integer, nullable=True, doc="periodic only: the enterprise reconfirms this often"
    )
    reconfirm_due_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, doc="periodic only: reads stop after this until reconfirmed"
    )
    status: Mapped[str] = mapped_column(String(16), default="requested")
    requested_by: Mapped[str] = mapped_column(String(64), doc="user or key id, never a name")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    approval_channel: Mapped[str | None] = mapped_column(
        String(16), nullable=True, doc="how the enterprise approved: api or web"
    )
    risk_notice_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    risk_notice_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    evidence_canonical: Mapped[str | None] = mapped_column(
        Text, nullable=True, doc="canonical JSON of the approved terms, exactly as signed"
    )
    evidence_alg: Mapped[str | None] = mapped_column(String(16), nullable=True)
    evidence_key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    evidence_signature: Mapped[str | None] = mapped_column(String(128), nullable=True)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuthorizationEvent(Base):
    """One state change of an authorization (append-only)."""

    __tablename__ = "authorization_event"
    __table_args__ = (Index("ix_authorization_event_authorization", "authorization_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    authorization_id: Mapped[str] = mapped_column(ForeignKey("authorization.id"))
    action: Mapped[str] = mapped_column(String(16), doc="request, approve, reject, revoke …")
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    actor_kind: Mapped[str] = mapped_column(String(16), doc="PrincipalKind, or system")
    actor_code: Mapped[str] = mapped_column(String(64), doc="institution code, USCC, system")
    actor_id: Mapped[str | None] = mapped_column(
        String(64), nullable=True, doc="user or key id, never a name"
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
