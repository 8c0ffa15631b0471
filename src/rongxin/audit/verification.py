"""``verify``: walk the whole access log and name the first bad entry.

The chain is read in batches of ``batch_size`` entries ordered by ``seq`` (bounded memory,
however long the log). For each entry it checks, in order:

1. the sequence has no gap (``deleted``);
2. the entry's fields still produce its stored hash (``altered``);
3. its ``prev_hash`` is the previous entry's hash — when not, an intact entry whose predecessor
   sits elsewhere in the log was moved (``reordered``); otherwise the previous entry was
   rewritten with a recomputed hash or entries were deleted and the rest renumbered
   (``rewritten``);
4. the item index agrees with the entry's items (``item_index``);
5. a checkpoint at this seq has a valid signature of this node's key (``bad_checkpoint``),
   follows the previous checkpoint (``missing_checkpoint``) and signs the hash the chain has
   there (``rewritten``: the chain was recomputed after the checkpoint was signed).

After the walk: a checkpoint beyond the last entry, or a head row recording a later tail, means
entries were cut off the end (``truncated``). What cannot be noticed: entries appended after the
last checkpoint that were removed together with a matching rewrite of the head row — the
unsigned tail is only as safe as the database; sign often (RONGXIN_AUDIT_CHECKPOINT_EVERY,
``rongxin audit checkpoint``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Final, TypeAlias

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from rongxin.audit import chain
from rongxin.audit.models import HEAD_ID, AuditCheckpoint, AuditEntry, AuditEntryItem, AuditHead
from rongxin.audit.schemas import ProblemKind, VerifyProblem, VerifyResult
from rongxin.config import Settings

BATCH_SIZE: Final = 5000
_Row: TypeAlias = Row[*tuple[Any, ...]]

_ENTRY_COLUMNS: Final = (
    AuditEntry.seq,
    AuditEntry.hash_version,
    AuditEntry.occurred_at,
    AuditEntry.action,
    AuditEntry.actor_kind,
    AuditEntry.actor_code,
    AuditEntry.user_id,
    AuditEntry.uscc,
    AuditEntry.items,
    AuditEntry.purpose,
    AuditEntry.authorization_id,
    AuditEntry.outcome,
    AuditEntry.detail,
    AuditEntry.request_id,
    AuditEntry.node_id,
    AuditEntry.prev_hash,
    AuditEntry.entry_hash,
)
_CHECKPOINT_COLUMNS: Final = (
    AuditCheckpoint.seq,
    AuditCheckpoint.entry_hash,
    AuditCheckpoint.prev_seq,
    AuditCheckpoint.created_at,
    AuditCheckpoint.key_id,
    AuditCheckpoint.signature,
)


class _Walk:
    """The state of one walk along the chain."""

    def __init__(self, session: Session, key: chain.CheckpointKey) -> None:
        self.session = session
        self.key = key
        self.expected = 1
        self.prev_hash = chain.GENESIS_HASH
        self.entries = 0
        self.checkpoints = 0
        self.checkpoint_seq = 0

    def _where_is(self, entry_hash: str) -> int | None:
        """The seq of the entry that has this hash now, if any (only asked on a failure)."""
        seq = self.session.scalar(select(AuditEntry.seq).where(AuditEntry.entry_hash == entry_hash))
        return int(seq) if seq is not None else None

    def entry(self, row: _Row, indexed: set[str]) -> VerifyProblem | None:
        k = self.expected
        if row.seq != k:
            missing = f"seq {k}" if row.seq == k + 1 else f"seq {k}–{row.seq - 1}"
            return _problem(k, ProblemKind.deleted, f"{missing} missing: entries were deleted")
        fields = chain.EntryFields(
            hash_version=row.hash_version,
            occurred_at=row.occurred_at,
            action=row.action,
            actor_kind=row.actor_kind,
            actor_code=row.actor_code,
            user_id=row.user_id,
            uscc=row.uscc,
            items=row.items,
            purpose=row.purpose,
            authorization_id=row.authorization_id,
            outcome=row.outcome,
            detail=row.detail,
            request_id=row.request_id,
            node_id=row.node_id,
            prev_hash=row.prev_hash,
        )
        try:
            recomputed = chain.entry_hash(fields)
        except chain.UnknownHashVersion:
            recomputed = None
        if recomputed != row.entry_hash:
            return _problem(
                k,
                ProblemKind.altered,
                "the entry's fields do not match its hash: it was changed after it was written",
            )
        if row.prev_hash != self.prev_hash:
            found = self._where_is(row.prev_hash)
            if found is not None:
                return _problem(
                    k,
                    ProblemKind.reordered,
                    f"the entry is intact but follows the entry now at seq {found}, not seq "
                    f"{k - 1}: entries were swapped or moved",
                )
            if k == 1:
                return _problem(
                    1,
                    ProblemKind.rewritten,
                    "the first entry does not start the chain: earlier entries were deleted and "
                    "the rest renumbered, or it was rewritten",
                )
            return _problem(
                k - 1,
                ProblemKind.rewritten,
                f"seq {k} links to a hash no entry has: seq {k - 1} was changed and its hash "
                f"recomputed, or entries after it were deleted and the rest renumbered",
            )
        items = set(chain.decode_items(row.items))
        if items != indexed:
            return _problem(
                k,
                ProblemKind.item_index,
                f"the item index lists {sorted(indexed)} for this entry, the entry lists "
                f"{sorted(items)}",
            )
        self.expected = k + 1
        self.prev_hash = row.entry_hash
        self.entries += 1
        return None

    def checkpoint(self, cp: _Row, chain_hash: str) -> VerifyProblem | None:
        if cp.key_id != self.key.key_id:
            return _problem(
                cp.seq,
                ProblemKind.bad_checkpoint,
                f"checkpoint at seq {cp.seq} is signed with key {cp.key_id}, not this node's "
                f"key {self.key.key_id} (was RONGXIN_SECRET_KEY changed?)",
            )
        message = chain.checkpoint_message(
            seq=cp.seq, entry_hash=cp.entry_hash, prev_seq=cp.prev_seq, created_at=cp.created_at
        )
        if not self.key.verify(cp.signature, message):
            return _problem(
                cp.seq,
                ProblemKind.bad_checkpoint,
                f"the signature of the checkpoint at seq {cp.seq} does not verify: the "
                "checkpoint was changed",
            )
        if cp.prev_seq != self.checkpoint_seq:
            return _problem(
                cp.prev_seq,
                ProblemKind.missing_checkpoint,
                f"the checkpoint at seq {cp.seq} follows one at seq {cp.prev_seq}, which is "
                "missing",
            )
        if cp.entry_hash != chain_hash:
            first = self.checkpoint_seq + 1
            return _problem(
                first,
                ProblemKind.rewritten,
                f"seq {cp.seq} no longer has the hash its signed checkpoint covers: the "
                f"entries from seq {first} to {cp.seq} were rewritten (hashes recomputed)",
            )
        self.checkpoints += 1
        self.checkpoint_seq = cp.seq
        return None


def _problem(seq: int, kind: ProblemKind, message: str) -> VerifyProblem:
    return VerifyProblem(seq=seq, kind=kind, message=message)


def _walk(session: Session, walk: _Walk, batch_size: int) -> VerifyProblem | None:
    last = 0
    while True:
        rows = session.execute(
            select(*_ENTRY_COLUMNS)
            .where(AuditEntry.seq > last)
            .order_by(AuditEntry.seq)
            .limit(batch_size)
        ).all()
        if not rows:
            return None
        high = rows[-1].seq
        indexed: defaultdict[int, set[str]] = defaultdict(set)
        for seq, code in session.execute(
            select(AuditEntryItem.seq, AuditEntryItem.item_code).where(
                AuditEntryItem.seq > last, AuditEntryItem.seq <= high
            )
        ):
            indexed[seq].add(code)
        checkpoints = {
            cp.seq: cp
            for cp in session.execute(
                select(*_CHECKPOINT_COLUMNS).where(
                    AuditCheckpoint.seq > last, AuditCheckpoint.seq <= high
                )
            )
        }
        for row in rows:
            problem = walk.entry(row, indexed.get(row.seq, set()))
            if problem is None and row.seq in checkpoints:
                problem = walk.checkpoint(checkpoints[row.seq], row.entry_hash)
            if problem is not None:
                return problem
        last = high


def _tail(session: Session, walk: _Walk) -> VerifyProblem | None:
    last_seq = walk.expected - 1
    later_checkpoint = session.scalar(
        select(func.min(AuditCheckpoint.seq)).where(AuditCheckpoint.seq > last_seq)
    )
    if later_checkpoint is not None:
        return _problem(
            last_seq + 1,
            ProblemKind.truncated,
            f"entries after seq {last_seq} are gone, but a checkpoint signed seq "
            f"{later_checkpoint}",
        )
    head = session.get(AuditHead, HEAD_ID, populate_existing=True)
    if head is None:
        if last_seq == 0:
            return None
        return _problem(
            last_seq,
            ProblemKind.truncated,
            "the head row (audit_head) that records the tail is gone",
        )
    if head.checkpoint_seq > walk.checkpoint_seq:
        return _problem(
            head.checkpoint_seq,
            ProblemKind.missing_checkpoint,
            f"the head records a checkpoint at seq {head.checkpoint_seq}, which is missing",
        )
    if head.seq > last_seq:
        return _problem(
            last_seq + 1,
            ProblemKind.truncated,
            f"the head records seq {head.seq} as the tail; entries after seq {last_seq} are gone",
        )
    if head.seq < last_seq:
        return _problem(
            head.seq + 1,
            ProblemKind.altered,
            f"entries after seq {head.seq} (the tail the head records) were added without "
            "appending through the log",
        )
    if head.entry_hash != walk.prev_hash:
        return _problem(
            last_seq,
            ProblemKind.altered,
            "the last entry's hash is not the tail hash the head records: it was changed and "
            "its hash recomputed",
        )
    return None


def verify(session: Session, *, settings: Settings, batch_size: int = BATCH_SIZE) -> VerifyResult:
    """Check the whole chain and every checkpoint; the result names the first bad entry."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    key = chain.checkpoint_key(settings)
    walk = _Walk(session, key)
    problem = _walk(session, walk, batch_size) or _tail(session, walk)
    last_seq = walk.expected - 1
    return VerifyResult(
        intact=problem is None,
        entries_checked=walk.entries,
        checkpoints_checked=walk.checkpoints,
        last_seq=last_seq,
        last_hash=walk.prev_hash,
        last_checkpoint_seq=walk.checkpoint_seq,
        unsigned_entries=last_seq - walk.checkpoint_seq,
        key_id=key.key_id,
        development_key=key.development,
        problem=problem,
    )
