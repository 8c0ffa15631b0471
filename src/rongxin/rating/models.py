"""Rating tables: the scorecard registry, rating runs, every entity's rating per run (its
history), and the grade changes between runs (for monitoring).

A run rates every entity on the node with one version of the indicator system; its rows are only
ever inserted, so an entity's history is its rows across runs, and each row keeps the indicator
sheet it was computed from.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rongxin.db.base import Base, UTCDateTime, utcnow

BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class ScorecardModel(Base):
    """One version of a scorecard in the registry: the platform's own, or an institution's
    (E2). ``spec`` is the portable scorecard (``rongxin.rating.scorecards``)."""

    __tablename__ = "scorecard_model"
    __table_args__ = (UniqueConstraint("owner_code", "name", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_code: Mapped[str] = mapped_column(String(64), doc="'platform', or the institution's code")
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(32))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    fingerprint: Mapped[str | None] = mapped_column(
        String(64), nullable=True, doc="sha256 of the training data (file, target, bad value)"
    )
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reference: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, nullable=True, doc="reference distributions for stability (PSI)"
    )
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RatingRun(Base):
    """One rating run: full coverage of every entity on the node, or a re-rating of some."""

    __tablename__ = "rating_run"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    system_code: Mapped[str] = mapped_column(String(64))
    system_version: Mapped[str] = mapped_column(String(32))
    features_version: Mapped[str] = mapped_column(String(32))
    engine: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    entity_count: Mapped[int] = mapped_column(Integer, default=0)
    changed_count: Mapped[int] = mapped_column(Integer, default=0)
    grade_counts: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    previous_run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    triggered_by: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(
        String(16),
        default="full",
        server_default="full",
        doc="full (every entity) | entities (re-rating some, e.g. after a credit repair)",
    )


class EntityRating(Base):
    """One entity's rating in one run, with the indicator sheet behind it."""

    __tablename__ = "entity_rating"
    # by entity, covering a report's lookup of the latest grade and score (no table read)
    __table_args__ = (Index("ix_entity_rating_uscc_run", "uscc", "run_id", "grade", "score"),)

    run_id: Mapped[str] = mapped_column(
        ForeignKey("rating_run.id", ondelete="CASCADE"), primary_key=True
    )
    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(8))
    veto: Mapped[str | None] = mapped_column(String(64), nullable=True)
    data_sources: Mapped[int] = mapped_column(Integer)
    data_depth: Mapped[str] = mapped_column(String(16))
    peer_group: Mapped[str] = mapped_column(String(16), doc="province|section|size")
    percentile: Mapped[float] = mapped_column(Float, doc="share of peers rated lower, 0–100")
    reasons: Mapped[str] = mapped_column(
        String(400), doc="indicator codes that cost most points, worst first, comma-separated"
    )
    sheet: Mapped[dict[str, Any]] = mapped_column(
        JSON, doc='{"v": feature values, "p": indicator points} in the system\'s order'
    )


class RatingChange(Base):
    """A grade that changed between two runs (monitoring, K1)."""

    __tablename__ = "rating_change"
    __table_args__ = (Index("ix_rating_change_uscc", "uscc"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("rating_run.id", ondelete="CASCADE"), index=True)
    previous_run_id: Mapped[str] = mapped_column(String(32))
    uscc: Mapped[str] = mapped_column(String(18))
    previous_grade: Mapped[str] = mapped_column(String(8))
    grade: Mapped[str] = mapped_column(String(8))
    previous_score: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
