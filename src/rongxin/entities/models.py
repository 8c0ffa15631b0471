"""Market-entity tables. Portable DDL: the same tables on SQLite and PostgreSQL.

``market_entity`` holds one row per 市场主体, keyed by its USCC, with the registration facts and
the indicators of its latest annual report (from which the SME size class is derived).

``entity_name_gram`` is a portable full-text index for partial Chinese name search: one row per
distinct character bigram of the (lower-cased, NFKC-normalized) name. A query's bigrams select
candidate entities through the (gram, uscc) primary key; ``name LIKE %q%`` confirms them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rongxin.db.base import Base, UTCDateTime, utcnow


class MarketEntity(Base):
    """One market entity (市场主体) as registered, with its latest annual-report indicators."""

    __tablename__ = "market_entity"

    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    entity_type: Mapped[str] = mapped_column(String(32), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    industry_code: Mapped[str] = mapped_column(String(4))
    industry_section: Mapped[str] = mapped_column(String(1), index=True)
    legal_rep_name: Mapped[str] = mapped_column(String(50))
    registered_capital: Mapped[float | None] = mapped_column(
        Float, nullable=True, doc="注册资本, 万元"
    )
    establish_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    size_class: Mapped[str | None] = mapped_column(
        String(8), nullable=True, index=True, doc="large/medium/small/micro; NULL when unknown"
    )
    size_rule: Mapped[str | None] = mapped_column(
        String(32), nullable=True, doc="id of the size-class rule set used"
    )
    annual_report_year: Mapped[int | None] = mapped_column(
        Integer, nullable=True, doc="year of the annual report the indicators come from"
    )
    employees: Mapped[int | None] = mapped_column(Integer, nullable=True)
    revenue: Mapped[float | None] = mapped_column(Float, nullable=True, doc="营业收入, 万元")
    total_assets: Mapped[float | None] = mapped_column(Float, nullable=True, doc="资产总额, 万元")
    origin_node: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EntityNameGram(Base):
    """One character bigram of an entity's name (the name-search index).

    The primary key (gram, uscc) is the only index: search looks grams up by it, and a rename
    deletes the old name's (gram, uscc) pairs by it. A secondary index on uscc would more than
    double bulk-load time; entities are never deleted (注销 is a status), so the cascade is a
    safety net, not a hot path.
    """

    __tablename__ = "entity_name_gram"

    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    uscc: Mapped[str] = mapped_column(
        ForeignKey("market_entity.uscc", ondelete="CASCADE"), primary_key=True
    )
