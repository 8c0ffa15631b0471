"""What every rights case shares: credit commitments (信用承诺), the event history, notices to
the enterprise and evidence files. Objections (``objections.py``), repair (``repair.py``) and
self-reported information (``self_reported.py``) build on these.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol

import polars as pl
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.db.base import utcnow
from rongxin.db.bulk import bulk_insert, is_postgresql
from rongxin.kit import versioned_text
from rongxin.rights.errors import (
    InvalidRightsRequest,
    RightsDataError,
    StaleCommitment,
)
from rongxin.rights.models import (
    CreditCommitment,
    RightsAttachment,
    RightsEvent,
    SubjectNotice,
)
from rongxin.rights.schemas import (
    AttachmentRead,
    CaseKind,
    CaseTrail,
    CommitmentContext,
    CommitmentEcho,
    CommitmentRead,
    CommitmentText,
    EventRead,
    NoticeRead,
)

COMMITMENT_PREFIX: Final = "credit_commitment_"
#: media types accepted as evidence (documents and pictures)
EVIDENCE_TYPES: Final = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "text/plain",
        "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)
MAX_ATTACHMENTS: Final = 10


def new_id() -> str:
    return uuid.uuid4().hex


def may_see_case(principal: Principal, *, uscc: str, provider_code: str, routed: bool) -> bool:
    """Who sees a case: the enterprise its own, the providing department those routed to it,
    staff all (another party's case answers 404, as if it did not exist)."""
    if principal.kind is PrincipalKind.enterprise:
        return uscc == principal.code
    if principal.kind is PrincipalKind.provider:
        return routed and provider_code == principal.code
    return principal.kind in (PrincipalKind.operator, PrincipalKind.regulator)


def actor_of(principal: Principal) -> tuple[str, str]:
    """(kind, code) recorded for an actor: people by user id, keys by the party's code."""
    return principal.kind.value, principal.user_id or principal.code


# ---- credit commitments ---------------------------------------------------------------------


CommitmentTexts = versioned_text.Versions[CommitmentText]


def load_commitments(directory: Path | None = None) -> CommitmentTexts:
    """The commitment texts (``RONGXIN_COMMITMENT_DIR`` or shipped), read once per directory."""
    return versioned_text.load(
        CommitmentText,
        prefix=COMMITMENT_PREFIX,
        directory=directory,
        what="credit commitment",
        error=RightsDataError,
    )


def sign_commitment(
    session: Session,
    *,
    texts: CommitmentTexts,
    principal: Principal,
    uscc: str,
    echo: CommitmentEcho,
    context: CommitmentContext,
    at: datetime | None = None,
) -> CreditCommitment:
    """Record the enterprise's signature of the commitment text in force; the request must
    echo that text's version and sha256 (else 409: show the current text again)."""
    when = at or utcnow()
    current = texts.in_force(when)
    if echo.version != current.version or echo.sha256 != current.sha256:
        raise StaleCommitment(
            f"the credit commitment in force is version {current.version} "
            f"(sha256 {current.sha256[:12]}…); read it and sign that text",
            version=current.version,
            sha256=current.sha256,
        )
    row = CreditCommitment(
        id=new_id(),
        uscc=uscc,
        version=current.version,
        sha256=current.sha256,
        context=context.value,
        signed_at=when,
        signed_by=principal.user_id or principal.key_id or principal.code,
        status="in_force",
    )
    session.add(row)
    session.flush()
    return row


def commitments(session: Session, *, uscc: str) -> list[CommitmentRead]:
    stmt = (
        select(CreditCommitment)
        .where(CreditCommitment.uscc == uscc)
        .order_by(CreditCommitment.signed_at.desc())
    )
    return [CommitmentRead.model_validate(c) for c in session.scalars(stmt)]


def broken_commitments(session: Session, *, uscc: str) -> int:
    """How many of its credit commitments ``uscc`` broke (every report shows it)."""
    return int(session.connection().scalar(_BROKEN, {"uscc": uscc}) or 0)  # Core: no ORM layer


_BROKEN = select(func.count()).where(  # built once: every report runs it
    CreditCommitment.uscc == bindparam("uscc"), CreditCommitment.status == "broken"
)


def break_commitment(
    session: Session, *, commitment_id: str, principal: Principal, note: str
) -> CommitmentRead:
    """The operator records that the enterprise broke a commitment (违诺); reports show it."""
    if len(note.strip()) < 2:
        raise InvalidRightsRequest(
            "say what the enterprise broke (at least 2 characters)", field="note"
        )
    row = session.get(CreditCommitment, commitment_id)
    if row is None:
        raise InvalidRightsRequest(f"no credit commitment {commitment_id}", field="commitment_id")
    if row.status == "broken":
        return CommitmentRead.model_validate(row)
    row.status, row.broken_at = "broken", utcnow()
    row.broken_by, row.broken_note = actor_of(principal)[1], note
    session.flush()
    record_event(
        session,
        kind=CaseKind.commitment,
        case_id=row.id,
        action="broken",
        status_from="in_force",
        status_to="broken",
        actor=actor_of(principal),
        note=note,
    )
    notify(
        session,
        uscc=row.uscc,
        kind=CaseKind.objection,
        case_id=row.id,
        action="commitment_broken",
        note=note,
    )
    return CommitmentRead.model_validate(row)


# ---- history and notices --------------------------------------------------------------------


def record_event(
    session: Session,
    *,
    kind: CaseKind,
    case_id: str,
    action: str,
    status_from: str | None,
    status_to: str,
    actor: tuple[str, str],
    note: str = "",
    at: datetime | None = None,
) -> None:
    session.add(
        RightsEvent(
            case_kind=kind.value,
            case_id=case_id,
            action=action,
            status_from=status_from,
            status_to=status_to,
            actor_kind=actor[0],
            actor_code=actor[1],
            note=note[:2000],
            at=at or utcnow(),
        )
    )


#: the actor of steps the platform takes by itself (the daily sweep)
SYSTEM_ACTOR: Final = ("system", "rights-sweep")


class Case(Protocol):
    """What a step needs of a case row (an objection, a repair application)."""

    id: str
    uscc: str
    status: str


def step(
    session: Session,
    kind: CaseKind,
    case: Case,
    action: str,
    status_from: str | None,
    principal: Principal | None,
    *,
    note: str,
    at: datetime,
) -> None:
    """One step of a case (its status already set): an event in its history and a notice to
    the enterprise. ``principal`` ``None``: the platform itself (the daily sweep)."""
    actor = actor_of(principal) if principal is not None else SYSTEM_ACTOR
    record_event(
        session,
        kind=kind,
        case_id=case.id,
        action=action,
        status_from=status_from,
        status_to=case.status,
        actor=actor,
        note=note,
        at=at,
    )
    notify(session, uscc=case.uscc, kind=kind, case_id=case.id, action=action, note=note, at=at)


def events(session: Session, *, kind: CaseKind, case_id: str) -> list[EventRead]:
    stmt = (
        select(RightsEvent)
        .where(RightsEvent.case_kind == kind.value, RightsEvent.case_id == case_id)
        .order_by(RightsEvent.seq)
    )
    return [EventRead.model_validate(e) for e in session.scalars(stmt)]


def notify(
    session: Session,
    *,
    uscc: str,
    kind: CaseKind,
    case_id: str,
    action: str,
    note: str = "",
    at: datetime | None = None,
) -> None:
    """A notice to the enterprise (shown on its pages and by ``GET /rights/notices``)."""
    session.add(
        SubjectNotice(
            uscc=uscc,
            case_kind=kind.value,
            case_id=case_id,
            action=action,
            note=note[:2000],
            created_at=at or utcnow(),
        )
    )


def notify_many(
    session: Session,
    *,
    usccs: pl.Series,
    kind: CaseKind,
    case_id: str,
    action: str,
    notes: pl.Series,
    at: datetime | None = None,
) -> None:
    """:func:`notify` for many enterprises at once (one bulk insert)."""
    if usccs.is_empty():
        return
    frame = pl.DataFrame({"uscc": usccs, "note": notes.str.slice(0, 2000)})
    when = at or utcnow()
    constants = {
        "case_kind": kind.value,
        "case_id": case_id,
        "action": action,
        "created_at": when
        if is_postgresql(session)
        else when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    session.flush()
    bulk_insert(session, SubjectNotice.__tablename__, frame, constants=constants)


def notices(session: Session, *, uscc: str, limit: int = 50) -> list[NoticeRead]:
    stmt = (
        select(SubjectNotice)
        .where(SubjectNotice.uscc == uscc)
        .order_by(SubjectNotice.seq.desc())
        .limit(limit)
    )
    return [NoticeRead.model_validate(n) for n in session.scalars(stmt)]


def mark_notices_read(session: Session, *, uscc: str) -> int:
    result = session.execute(
        update(SubjectNotice)
        .where(SubjectNotice.uscc == uscc, SubjectNotice.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---- evidence files -------------------------------------------------------------------------


def add_attachment(
    session: Session,
    *,
    uscc: str,
    owner_kind: str,
    owner_id: str,
    filename: str,
    media_type: str,
    content: bytes,
    max_bytes: int,
) -> AttachmentRead:
    """Store one evidence file with what it belongs to (same transaction)."""
    name = Path(filename or "").name.strip()
    if not name:
        raise InvalidRightsRequest("an evidence file needs a file name", field="file")
    kind = (media_type or "").split(";")[0].strip().lower()
    if kind not in EVIDENCE_TYPES:
        allowed = ", ".join(sorted(EVIDENCE_TYPES))
        raise InvalidRightsRequest(
            f"{name}: files of type {kind or 'unknown'} are not accepted as evidence "
            f"(accepted: {allowed})",
            field="file",
        )
    if not content:
        raise InvalidRightsRequest(f"{name}: the file is empty", field="file")
    if len(content) > max_bytes:
        raise InvalidRightsRequest(
            f"{name}: {len(content):,} bytes is more than the {max_bytes:,} allowed per file",
            field="file",
        )
    count = session.scalar(
        select(func.count()).where(
            RightsAttachment.owner_kind == owner_kind, RightsAttachment.owner_id == owner_id
        )
    )
    if int(count or 0) >= MAX_ATTACHMENTS:
        raise InvalidRightsRequest(
            f"at most {MAX_ATTACHMENTS} evidence files per case", field="file"
        )
    row = RightsAttachment(
        id=new_id(),
        uscc=uscc,
        owner_kind=owner_kind,
        owner_id=owner_id,
        filename=name[:255],
        media_type=kind,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
    session.add(row)
    session.flush()
    return AttachmentRead.model_validate(row)


def attachments(
    session: Session, *, owner_kind: str, owner_ids: Sequence[str]
) -> list[AttachmentRead]:
    if not owner_ids:
        return []
    stmt = (
        select(RightsAttachment)
        .where(
            RightsAttachment.owner_kind == owner_kind,
            RightsAttachment.owner_id.in_(list(owner_ids)),
        )
        .order_by(RightsAttachment.uploaded_at)
    )
    return [AttachmentRead.model_validate(a) for a in session.scalars(stmt)]


def trail(session: Session, *, kind: CaseKind, case_id: str) -> CaseTrail:
    """A case's full history and its evidence files."""
    return CaseTrail(
        events=events(session, kind=kind, case_id=case_id),
        attachments=attachments(session, owner_kind=kind.value, owner_ids=[case_id]),
    )


def attachment_content(
    session: Session, *, attachment_id: str
) -> tuple[AttachmentRead, bytes] | None:
    row = session.get(RightsAttachment, attachment_id)
    if row is None:
        return None
    return AttachmentRead.model_validate(row), row.content
