"""The access log's tables. Rows are only ever inserted (the head row is the one exception).

``audit_entry`` is a hash chain: each entry stores the hash of its predecessor (``prev_hash``)
and its own ``entry_hash`` over a canonical, versioned serialization of all its fields
(``rongxin.audit.chain``). ``audit_checkpoint`` signs, every so many entries, the hash at a
sequence number with the node's Ed25519 audit key. ``audit_head`` is one row: the tail of the
chain and the last checkpoint; appenders lock it, which serialises them on every engine.
``audit_entry_item`` lists each entry's item codes, keyed (seq, item_code): providers' filters
ask entry by entry whether it touched one of their items; ``verify`` checks it against the
entries. It has no second index by item: none was read, and one leaf per item code rewritten by
every batch cost each commit about half of its pages (migration 0007).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rongxin.db.base import Base, UTCDateTime

SeqType = BigInteger().with_variant(Integer(), "sqlite")

#: the id of the one ``audit_head`` row
HEAD_ID = 1


class AuditEntry(Base):
    """One access: who, as what, about which entity and items, why, under which authorization,
    with what outcome. Codes only — never names, ID numbers or values."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_uscc_seq", "uscc", "seq"),
        Index("ix_audit_entry_actor_seq", "actor_code", "seq"),
    )

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    hash_version: Mapped[int] = mapped_column(SmallInteger)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    action: Mapped[str] = mapped_column(String(64))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_code: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    uscc: Mapped[str | None] = mapped_column(String(18), nullable=True)
    items: Mapped[str] = mapped_column(Text, doc="JSON list of catalog item codes, sorted")
    purpose: Mapped[str | None] = mapped_column(String(32), nullable=True)
    authorization_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(500))
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    node_id: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditEntryItem(Base):
    """Which catalog items an entry touched, for providers' filters on the log (derived from
    ``audit_entry.items``; ``verify`` checks that the two agree)."""

    __tablename__ = "audit_entry_item"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)


class AuditCheckpoint(Base):
    """A signed statement "the chain up to ``seq`` ends in ``entry_hash``"; each checkpoint also
    signs the sequence number of the previous one, so a removed checkpoint is noticed."""

    __tablename__ = "audit_checkpoint"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    entry_hash: Mapped[str] = mapped_column(String(64))
    prev_seq: Mapped[int] = mapped_column(SeqType, doc="the previous checkpoint's seq (0: none)")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128), doc="hex Ed25519 signature")


class AuditHead(Base):
    """The one row that holds the chain's tail and the last checkpoint; appenders lock it."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(SeqType)
    entry_hash: Mapped[str] = mapped_column(String(64))
    checkpoint_seq: Mapped[int] = mapped_column(SeqType)
