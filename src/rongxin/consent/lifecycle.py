"""The enterprise decides: approve (after the risk notice), reject, revoke, pause, resume,
reconfirm; and the record of expiry.

State machine (DOMAIN.md §12)::

    requested ─approve→ active ⇄ paused        (pause / resume)
        │                 │        │
        └─reject→ rejected └─revoke┴→ revoked   (at any time, effective at once)
    requested | active | paused ─(valid_until passes)→ expired

Only the enterprise the authorization is about (its USCC) can act on it; for anyone else it is
"not found". Each change appends an ``authorization_event``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from rongxin.access.schemas import Principal
from rongxin.consent import evidence
from rongxin.consent.errors import InvalidTransition, StaleRiskNotice
from rongxin.consent.models import Authorization
from rongxin.consent.notice import RiskNotices
from rongxin.consent.schemas import (
    ApprovalChannel,
    AuthorizationAction,
    AuthorizationRead,
    AuthorizationStatus,
)
from rongxin.consent.service import (
    LIVE,
    actor_id,
    effective_status,
    load_authorization,
    record_event,
    require_aware,
    to_read,
)

_PAST = {
    AuthorizationAction.approve: "approved",
    AuthorizationAction.reject: "rejected",
    AuthorizationAction.revoke: "revoked",
    AuthorizationAction.pause: "paused",
    AuthorizationAction.resume: "resumed",
    AuthorizationAction.reconfirm: "reconfirmed",
}


def _transition(
    session: Session,
    *,
    authorization_id: str,
    uscc: str,
    allowed_from: tuple[AuthorizationStatus, ...],
    action: AuthorizationAction,
    now: datetime,
) -> Authorization:
    """The authorization (locked), when its status at ``now`` allows ``action``."""
    require_aware(now, "now")
    row = load_authorization(session, authorization_id, uscc=uscc, for_update=True)
    status = effective_status(row, now)
    if status not in allowed_from:
        allowed = " or ".join(s.value for s in allowed_from)
        raise InvalidTransition(
            f"authorization {row.id} is {status.value}; only a {allowed} authorization can "
            f"be {_PAST[action]}",
            current_status=status.value,
        )
    return row


def _reconfirm_due(row: Authorization, now: datetime) -> datetime | None:
    if row.reconfirm_days is None:
        return None
    start = max(now, row.valid_from)
    return min(start + timedelta(days=row.reconfirm_days), row.valid_until)


def approve(
    session: Session,
    *,
    authorization_id: str,
    uscc: str,
    actor: Principal,
    risk_notice_sha256: str,
    notices: RiskNotices,
    key: evidence.EvidenceKey,
    now: datetime,
    channel: ApprovalChannel = ApprovalChannel.api,
) -> AuthorizationRead:
    """The enterprise ``uscc`` approves, echoing the hash of the risk notice it was shown.

    A hash other than the notice in force (a notice changed since it was shown) is refused;
    the approved terms are signed (:mod:`rongxin.consent.evidence`). Approving a request that
    supersedes another ends the other (status revoked, action supersede).
    """
    row = _transition(
        session,
        authorization_id=authorization_id,
        uscc=uscc,
        allowed_from=(AuthorizationStatus.requested,),
        action=AuthorizationAction.approve,
        now=now,
    )
    notice = notices.in_force(now)
    if risk_notice_sha256 != notice.sha256:
        raise StaleRiskNotice(
            f"risk_notice_sha256: the risk notice shown is not the one in force (version "
            f"{notice.version}); show GET /api/v1/consent/authorizations/{row.id}/notice again "
            "and approve with its sha256",
            field="risk_notice_sha256",
            current_version=notice.version,
        )
    row.decided_by = actor_id(actor)
    row.decided_at = now
    row.approval_channel = channel.value
    row.risk_notice_version = notice.version
    row.risk_notice_sha256 = notice.sha256
    row.reconfirm_due_at = _reconfirm_due(row, now)
    evidence.seal(row, key)
    record_event(
        session,
        row,
        action=AuthorizationAction.approve,
        to=AuthorizationStatus.active,
        actor=actor,
        at=now,
        reason=f"risk notice {notice.version} shown",
    )
    if row.supersedes_id is not None:
        old = load_authorization(session, row.supersedes_id, uscc=uscc, for_update=True)
        if effective_status(old, now) in LIVE:
            record_event(
                session,
                old,
                action=AuthorizationAction.supersede,
                to=AuthorizationStatus.revoked,
                actor=actor,
                at=now,
                reason=f"superseded by {row.id}",
            )
    session.flush()
    return to_read(row, now)


#: the enterprise's simple decisions: from which states, to which state
_STEPS: Final[
    dict[AuthorizationAction, tuple[tuple[AuthorizationStatus, ...], AuthorizationStatus]]
] = {
    # declines a request
    AuthorizationAction.reject: ((AuthorizationStatus.requested,), AuthorizationStatus.rejected),
    # ends an authorization at once (active or paused)
    AuthorizationAction.revoke: (
        (AuthorizationStatus.active, AuthorizationStatus.paused),
        AuthorizationStatus.revoked,
    ),
    # suspends an active authorization (reads stop at once)
    AuthorizationAction.pause: ((AuthorizationStatus.active,), AuthorizationStatus.paused),
    # lifts a pause (and, for periodic access, reconfirms)
    AuthorizationAction.resume: ((AuthorizationStatus.paused,), AuthorizationStatus.active),
}


def change(
    session: Session,
    *,
    action: AuthorizationAction,
    authorization_id: str,
    uscc: str,
    actor: Principal,
    now: datetime,
    reason: str = "",
) -> AuthorizationRead:
    """The enterprise rejects, revokes, pauses or resumes an authorization (``_STEPS``)."""
    if action not in _STEPS:
        raise ValueError(f"{action.value} is not a simple decision")
    allowed_from, to = _STEPS[action]
    row = _transition(
        session,
        authorization_id=authorization_id,
        uscc=uscc,
        allowed_from=allowed_from,
        action=action,
        now=now,
    )
    if action is AuthorizationAction.reject:
        row.decided_by = actor_id(actor)
        row.decided_at = now
    if action is AuthorizationAction.resume and row.reconfirm_days is not None:
        row.reconfirm_due_at = _reconfirm_due(row, now)  # resuming reconfirms
    record_event(session, row, action=action, to=to, actor=actor, at=now, reason=reason)
    session.flush()
    return to_read(row, now)


reject = partial(change, action=AuthorizationAction.reject)
revoke = partial(change, action=AuthorizationAction.revoke)
pause = partial(change, action=AuthorizationAction.pause)
resume = partial(change, action=AuthorizationAction.resume)


def reconfirm(
    session: Session, *, authorization_id: str, uscc: str, actor: Principal, now: datetime
) -> AuthorizationRead:
    """The enterprise reconfirms a periodic authorization for another reconfirmation period."""
    row = _transition(
        session,
        authorization_id=authorization_id,
        uscc=uscc,
        allowed_from=(AuthorizationStatus.active,),
        action=AuthorizationAction.reconfirm,
        now=now,
    )
    if row.reconfirm_days is None:
        raise InvalidTransition(
            f"authorization {row.id} is not periodic; only periodic access is reconfirmed"
        )
    row.reconfirm_due_at = _reconfirm_due(row, now)
    due = row.reconfirm_due_at.isoformat() if row.reconfirm_due_at else ""
    record_event(
        session,
        row,
        action=AuthorizationAction.reconfirm,
        to=AuthorizationStatus.active,
        actor=actor,
        at=now,
        reason=f"next reconfirmation due {due}",
    )
    session.flush()
    return to_read(row, now)


# ---- expiry -------------------------------------------------------------------------------------


def expire_due(session: Session, *, now: datetime, limit: int = 10_000) -> list[str]:
    """Record ``expired`` for every live authorization whose window ended by ``now``.

    Reads never wait for this (expiry is computed from ``valid_until``); it makes the state
    history complete for reporting. The event is dated at ``valid_until``. Returns the ids.
    """
    require_aware(now, "now")
    stmt = (
        select(Authorization)
        .where(
            Authorization.status.in_([s.value for s in LIVE]),
            Authorization.valid_until <= now,
        )
        .order_by(Authorization.valid_until, Authorization.id)
        .limit(limit)
        .with_for_update()
    )
    done: list[str] = []
    for row in session.scalars(stmt):
        record_event(
            session,
            row,
            action=AuthorizationAction.expire,
            to=AuthorizationStatus.expired,
            actor=None,
            at=row.valid_until,
            reason=f"validity ended; recorded at {now.isoformat()}",
        )
        done.append(row.id)
    session.flush()
    return done
