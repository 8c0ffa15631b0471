"""Appending to the access log, signing checkpoints and querying entries.

``append`` runs inside the caller's transaction (services never commit). Appenders are
serialised by a lock on the one ``audit_head`` row, taken *before* the tail is read:

* both: one ``UPDATE audit_head SET seq = seq … RETURNING`` locks the row and reads it.
* PostgreSQL: the update waits for a concurrent holder's commit and then returns the new tail
  (READ COMMITTED).
* SQLite: the process's writer lock (``db.session.take_writer``) is taken first, then the update
  takes SQLite's single write lock, waiting for other processes' writers; the tail it returns is
  the latest committed state.

So the chain stays linear however many threads and processes append at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import polars as pl
import structlog
from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rongxin.access.schemas import PURPOSE_NAMES, Purpose
from rongxin.audit import chain
from rongxin.audit.errors import InvalidAuditQuery, UnknownProvider
from rongxin.audit.models import HEAD_ID, AuditCheckpoint, AuditEntry, AuditEntryItem, AuditHead
from rongxin.audit.schemas import AccessEvent, AuditEntryPage, AuditEntryRead, CheckpointRead
from rongxin.audit.verification import verify
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings, get_settings
from rongxin.db.base import utcnow
from rongxin.db.bulk import insert_rows
from rongxin.db.session import take_writer

__all__ = [
    "append",
    "current_request_id",
    "entries",
    "entry_frame",
    "last_seq",
    "lock_head",
    "provider_items",
    "verify",
    "write_checkpoint",
]

MAX_PAGE = 500
_PURPOSES = {p.value: p for p in Purpose}


def _create_head(session: Session) -> None:
    """Create the head row of an empty log (an ORM flush in a savepoint: on SQLite the process's
    writer mutex is taken before the write lock; a concurrent creator's row wins)."""
    try:
        with session.begin_nested():
            session.add(
                AuditHead(id=HEAD_ID, seq=0, entry_hash=chain.GENESIS_HASH, checkpoint_seq=0)
            )
    except IntegrityError:
        pass  # another appender created it first


@dataclass(slots=True)
class Head:
    """The chain's tail and last checkpoint, as locked by :func:`lock_head`."""

    seq: int
    entry_hash: str
    checkpoint_seq: int


# ``UPDATE … SET seq = seq … RETURNING``: one statement that locks the head row (PostgreSQL: a
# row lock until commit, waiting for a concurrent holder and then returning its committed
# values; SQLite: the database's write lock) and reads it. Built once.
_LOCK_HEAD = (
    update(AuditHead)
    .where(AuditHead.id == HEAD_ID)
    .values(seq=AuditHead.seq)
    .returning(AuditHead.seq, AuditHead.entry_hash, AuditHead.checkpoint_seq)
)
_MOVE_HEAD = (
    update(AuditHead)
    .where(AuditHead.id == HEAD_ID)
    .values(
        seq=bindparam("new_seq"),
        entry_hash=bindparam("new_hash"),
        checkpoint_seq=bindparam("new_checkpoint_seq"),
    )
)


def lock_head(session: Session) -> Head:
    """Lock the chain's head row until the transaction ends and return it, current."""
    take_writer(session)  # SQLite: queue for the write lock first (see db/session.py)
    row = session.connection().execute(_LOCK_HEAD).one_or_none()
    if row is None:
        _create_head(session)
        row = session.connection().execute(_LOCK_HEAD).one()
    return Head(seq=row.seq, entry_hash=row.entry_hash, checkpoint_seq=row.checkpoint_seq)


def _move_head(session: Session, head: Head) -> None:
    session.connection().execute(
        _MOVE_HEAD,
        {
            "new_seq": head.seq,
            "new_hash": head.entry_hash,
            "new_checkpoint_seq": head.checkpoint_seq,
        },
    )


def current_request_id() -> str | None:
    """The current request's id (set by the access-log middleware), if any."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) and value else None


def append(
    session: Session, events: Sequence[AccessEvent], *, settings: Settings | None = None
) -> list[int]:
    """Append ``events`` to the chain in the caller's transaction; returns their seqs.

    ``settings`` gives the node id and the checkpoint key and interval; edges pass theirs
    (without it the environment's settings are read). A checkpoint is signed once
    ``RONGXIN_AUDIT_CHECKPOINT_EVERY`` entries have been appended since the last one.
    """
    if not events:
        return []
    settings = settings or get_settings()
    head = lock_head(session)
    seq, prev = head.seq, head.entry_hash
    now = utcnow()
    context_request_id = current_request_id()
    rows: list[dict[str, object]] = []
    seqs: list[int] = []
    item_rows: list[dict[str, object]] = []
    for event in events:
        seq += 1
        fields = chain.EntryFields(
            hash_version=chain.HASH_VERSION,
            occurred_at=event.occurred_at or now,
            action=event.action,
            actor_kind=event.actor_kind.value,
            actor_code=event.actor_code,
            user_id=event.user_id,
            uscc=event.uscc,
            items=chain.encode_items(event.items),
            purpose=event.purpose.value if event.purpose is not None else None,
            authorization_id=event.authorization_id,
            outcome=event.outcome.value,
            detail=event.detail,
            request_id=event.request_id or context_request_id,
            node_id=settings.node_id,
            prev_hash=prev,
        )
        prev = chain.entry_hash(fields)
        seqs.append(seq)
        rows.append({"seq": seq, **_as_dict(fields), "entry_hash": prev})
        item_rows.extend({"seq": seq, "item_code": code} for code in event.items)
    # Core executemany on the session's connection: plain rows, no ORM bulk-insert bookkeeping
    connection = session.connection()
    insert_rows(connection, AuditEntry, rows)
    insert_rows(connection, AuditEntryItem, item_rows)
    head.seq, head.entry_hash = seq, prev
    if seq - head.checkpoint_seq >= settings.audit_checkpoint_every:
        _sign(session, head, chain.checkpoint_key(settings))
        session.flush()
    _move_head(session, head)
    return seqs


def _as_dict(fields: chain.EntryFields) -> dict[str, object]:
    return {name: getattr(fields, name) for name in chain.EntryFields.__slots__}


def _sign(session: Session, head: Head, key: chain.CheckpointKey) -> AuditCheckpoint:
    created_at = utcnow()
    message = chain.checkpoint_message(
        seq=head.seq,
        entry_hash=head.entry_hash,
        prev_seq=head.checkpoint_seq,
        created_at=created_at,
    )
    checkpoint = AuditCheckpoint(
        seq=head.seq,
        entry_hash=head.entry_hash,
        prev_seq=head.checkpoint_seq,
        created_at=created_at,
        key_id=key.key_id,
        signature=key.sign(message),
    )
    session.add(checkpoint)
    head.checkpoint_seq = head.seq
    return checkpoint


def write_checkpoint(session: Session, *, settings: Settings) -> CheckpointRead | None:
    """Sign a checkpoint at the current tail now; None when the tail is already signed."""
    head = lock_head(session)
    if head.seq == 0 or head.seq == head.checkpoint_seq:
        return None
    checkpoint = _sign(session, head, chain.checkpoint_key(settings))
    _move_head(session, head)
    session.flush()
    return CheckpointRead.model_validate(checkpoint)


def provider_items(catalog: Catalog, provider_code: str) -> list[str]:
    """The catalog item codes a provider supplies (UnknownProvider if it is not in the catalog)."""
    try:
        catalog.provider(provider_code)
    except KeyError:
        raise UnknownProvider(
            f"no data provider {provider_code!r} in the catalog; `rongxin catalog show` lists them",
            field="provider",
        ) from None
    return sorted(i.code for i in catalog.items if i.provider == provider_code)


def _read(
    entry: AuditEntry, *, only_items: frozenset[str] | None, hide_user: bool
) -> AuditEntryRead:
    items: list[str] = chain.decode_items(entry.items)
    if only_items is not None:
        items = [c for c in items if c in only_items]
    purpose = _PURPOSES.get(entry.purpose or "")
    names = PURPOSE_NAMES[purpose] if purpose is not None else None
    return AuditEntryRead(
        seq=entry.seq,
        occurred_at=entry.occurred_at,
        action=entry.action,
        actor_kind=entry.actor_kind,
        actor_code=entry.actor_code,
        user_id=None if hide_user else entry.user_id,
        uscc=entry.uscc,
        items=items,
        purpose=entry.purpose,
        purpose_name=names[0] if names else None,
        purpose_name_en=names[1] if names else None,
        authorization_id=entry.authorization_id,
        outcome=entry.outcome,
        detail=entry.detail,
        request_id=entry.request_id,
        node_id=entry.node_id,
        entry_hash=entry.entry_hash,
    )


def entries(
    session: Session,
    *,
    uscc: str | None = None,
    actor_code: str | None = None,
    action: str | None = None,
    provider_code: str | None = None,
    catalog: Catalog | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: int | None = None,
    hide_user: bool = False,
) -> AuditEntryPage:
    """Entries newest first, filtered, with keyset pagination on ``seq``.

    ``uscc``: an enterprise's access history ("who looked at my data"). ``provider_code`` (needs
    ``catalog``): entries that touched the provider's items, each showing only those items — the
    provider's usage feedback (V1). ``since``/``until`` bound ``occurred_at`` (``until``
    exclusive). ``cursor`` is the ``next_cursor`` of the previous page. ``hide_user`` leaves out
    the acting person's user id (for viewers outside the platform's staff).
    """
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidAuditQuery(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidAuditQuery(
                f"{name} needs a time zone, e.g. 2026-01-01T00:00:00Z", field=name
            )
    if cursor is not None and cursor < 1:
        raise InvalidAuditQuery("cursor must be a positive sequence number", field="cursor")
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit + 1)
    if cursor is not None:
        stmt = stmt.where(AuditEntry.seq < cursor)
    if uscc is not None:
        stmt = stmt.where(AuditEntry.uscc == uscc)
    if actor_code is not None:
        stmt = stmt.where(AuditEntry.actor_code == actor_code)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    if since is not None:
        stmt = stmt.where(AuditEntry.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.occurred_at < until)
    only_items: frozenset[str] | None = None
    if provider_code is not None:
        if catalog is None:
            raise InvalidAuditQuery("a provider filter needs the catalog", field="provider")
        codes = provider_items(catalog, provider_code)
        only_items = frozenset(codes)
        stmt = stmt.where(
            exists().where(
                AuditEntryItem.seq == AuditEntry.seq, AuditEntryItem.item_code.in_(codes)
            )
        )
    rows = list(session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditEntryPage(
        items=[_read(e, only_items=only_items, hide_user=hide_user) for e in rows],
        limit=limit,
        next_cursor=rows[-1].seq if more else None,
    )


#: the columns of :func:`entry_frame` (codes only, like the log itself)
FRAME_SCHEMA: Final = pl.Schema(
    {
        "seq": pl.Int64(),
        "occurred_at": pl.Datetime("us", "UTC"),
        "action": pl.String(),
        "actor_kind": pl.String(),
        "actor_code": pl.String(),
        "uscc": pl.String(),
        "items": pl.String(),
        "purpose": pl.String(),
        "authorization_id": pl.String(),
        "outcome": pl.String(),
        "detail": pl.String(),
    }
)


def last_seq(session: Session) -> int:
    """The sequence number of the newest entry (0 for an empty log)."""
    return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)


def entry_frame(
    session: Session,
    *,
    after_seq: int | None = None,
    through_seq: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    actor_kind: str | None = None,
    actor_codes: Sequence[str] | None = None,
    actions: Sequence[str] | None = None,
    seqs: Sequence[int] | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Entries as one columnar frame (:data:`FRAME_SCHEMA`), oldest first, for batch analysis
    (the abuse rules, Z3): ``after_seq`` < seq <= ``through_seq``, ``since`` <= occurred_at <
    ``until``, of one actor kind, some actor codes and some actions, or just the entries
    ``seqs``. ``items`` stays the JSON
    list the log stores. One query; no per-entry objects are built."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidAuditQuery(f"{name} needs a time zone", field=name)
    columns = [getattr(AuditEntry, name) for name in FRAME_SCHEMA]
    stmt = select(*columns).order_by(AuditEntry.seq)
    if after_seq is not None:
        stmt = stmt.where(AuditEntry.seq > after_seq)
    if through_seq is not None:
        stmt = stmt.where(AuditEntry.seq <= through_seq)
    if since is not None:
        stmt = stmt.where(AuditEntry.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.occurred_at < until)
    if actor_kind is not None:
        stmt = stmt.where(AuditEntry.actor_kind == actor_kind)
    if actor_codes is not None:
        stmt = stmt.where(AuditEntry.actor_code.in_(list(actor_codes)))
    if actions is not None:
        stmt = stmt.where(AuditEntry.action.in_(list(actions)))
    if seqs is not None:
        stmt = stmt.where(AuditEntry.seq.in_(list(seqs)))
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = session.execute(stmt).all()
    return pl.DataFrame(rows, schema=FRAME_SCHEMA, orient="row")
