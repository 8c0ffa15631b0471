"""Recording accesses through the group-commit writer (request handlers: one commit per batch).

A request handler that must log an access without committing its own transaction awaits
``record(writer, events, settings=settings)``: the events are appended to the chain in the
writer's next batch, and the call returns their seqs once that batch is committed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial

from rongxin.access.schemas import Principal, Purpose
from rongxin.audit import service
from rongxin.audit.schemas import AccessEvent, ActorKind, Outcome
from rongxin.config import Settings
from rongxin.db.group_commit import GroupCommitWriter


def _with_request_id(events: Sequence[AccessEvent]) -> list[AccessEvent]:
    """Stamp the current request's id now: the writer thread runs outside the request."""
    request_id = service.current_request_id()
    if request_id is None:
        return list(events)
    return [e if e.request_id else e.model_copy(update={"request_id": request_id}) for e in events]


async def record(
    writer: GroupCommitWriter, events: Sequence[AccessEvent], *, settings: Settings
) -> list[int]:
    """Append ``events`` in the writer's next batch; returns their seqs once committed."""
    if not events:
        return []
    return await writer.submit(
        partial(service.append, events=_with_request_id(events), settings=settings)
    )


def record_sync(
    writer: GroupCommitWriter, events: Sequence[AccessEvent], *, settings: Settings
) -> list[int]:
    """:func:`record` for code running in a thread (blocks until committed)."""
    if not events:
        return []
    return writer.submit_sync(
        partial(service.append, events=_with_request_id(events), settings=settings)
    )


_USCC = re.compile(r"^[0-9A-Z]{18}$")


def denial(
    principal: Principal | None,
    *,
    action: str,
    uscc: str | None,
    items: Sequence[str] = (),
    purpose: Purpose | None,
    reason: str,
) -> AccessEvent:
    """The access-log entry of a refused read (abuse rules look for these, Z3). ``uscc`` is
    kept only when well-formed: a refusal may be about a mistyped code."""
    code = (uscc or "").strip().upper()
    return AccessEvent(
        action=action,
        actor_kind=ActorKind(principal.kind.value) if principal else ActorKind.anonymous,
        actor_code=principal.code if principal else "anonymous",
        user_id=principal.user_id if principal else None,
        uscc=code if _USCC.match(code) else None,
        items=list(items),
        purpose=purpose,
        outcome=Outcome.denied,
        detail=reason[:500],
    )


def record_denial_sync(
    writer: GroupCommitWriter, event: AccessEvent, *, settings: Settings
) -> None:
    """Log a refusal in its own committed batch: the request's own transaction is about to be
    rolled back by the error, and the refusal must stay on record."""
    record_sync(writer, [event], settings=settings)
