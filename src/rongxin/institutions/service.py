"""Institution lifecycle: apply, reject, suspend, reinstate, withdraw, expiry and status.

Assessments (start, score, approve) are in :mod:`rongxin.institutions.assessments`, the daily
read quota in :mod:`rongxin.institutions.quota`. Services
flush, never commit. Every status change goes through :func:`transition`, which checks it
against :data:`TRANSITIONS` and appends an ``institution_event``.

:func:`is_active` is the per-request check behind suspension cutting access at once: only an
onboarded institution whose status is ``active`` and whose assessment has not expired is
active. An institution code that was never onboarded is *not* active.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Final

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import Principal, PrincipalKind, Purpose
from rongxin.db.base import utcnow
from rongxin.errors import Conflict, InvalidInput
from rongxin.institutions.errors import (
    InstitutionNotActive,
    InstitutionNotFound,
    InvalidTransition,
)
from rongxin.institutions.models import (
    Institution,
    InstitutionEvent,
    SecurityAssessment,
)
from rongxin.institutions.schemas import (
    AssessmentStatus,
    DueRead,
    EventRead,
    InstitutionApply,
    InstitutionRead,
    InstitutionStatus,
)
from rongxin.kit.pagination import Page
from rongxin.logging import get_logger

log = get_logger(__name__)

CHINA_TIME: Final = timezone(timedelta(hours=8), "CST")
SYSTEM_ACTOR: Final = "system"

S = InstitutionStatus
TRANSITIONS: Final[dict[InstitutionStatus, frozenset[InstitutionStatus]]] = {
    S.applied: frozenset({S.under_assessment, S.rejected, S.withdrawn}),
    S.under_assessment: frozenset({S.active, S.rejected, S.withdrawn}),
    S.active: frozenset({S.suspended, S.withdrawn}),
    S.suspended: frozenset({S.active, S.withdrawn}),
    S.rejected: frozenset({S.applied}),
    S.withdrawn: frozenset({S.applied}),
}


def actor_of(principal: Principal) -> str:
    """A stable name for who acted: the party and the person or key behind it.

    Until person accounts arrive, two different API keys count as two different people for the
    four-eyes rule; with person accounts the user id decides.
    """
    who = f"user:{principal.user_id}" if principal.user_id else f"key:{principal.key_id}"
    return f"{principal.kind.value}:{principal.code}/{who}"


def china_day(at: datetime) -> date:
    """The calendar day in China time (UTC+8) of the moment ``at``."""
    return at.astimezone(CHINA_TIME).date()


def institution_row(session: Session, code: str, *, for_update: bool = False) -> Institution:
    inst = session.get(Institution, code, with_for_update=for_update)
    if inst is None:
        raise InstitutionNotFound(
            f"no institution {code!r}; `rongxin institutions list` shows them", code=code
        )
    return inst


def _read(inst: Institution) -> InstitutionRead:
    return InstitutionRead.model_validate(inst)


def transition(
    session: Session,
    inst: Institution,
    to: InstitutionStatus,
    *,
    actor: str,
    reason: str,
    at: datetime,
) -> InstitutionEvent:
    """Move ``inst`` to ``to`` (checked against TRANSITIONS) and record the event."""
    current = InstitutionStatus(inst.status)
    if to not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
        raise InvalidTransition(
            f"institution {inst.code} is {current.value}: it cannot become {to.value} "
            f"(possible next steps: {allowed})",
            code=inst.code,
            current_status=current.value,
        )
    inst.status = to.value
    inst.status_changed_at = at
    return _event(session, inst.code, current, to, actor=actor, reason=reason, at=at)


def _event(
    session: Session,
    code: str,
    from_status: InstitutionStatus | None,
    to: InstitutionStatus,
    *,
    actor: str,
    reason: str,
    at: datetime,
) -> InstitutionEvent:
    event = InstitutionEvent(
        institution_code=code,
        from_status=from_status.value if from_status else None,
        to_status=to.value,
        actor=actor,
        at=at,
        reason=reason,
    )
    session.add(event)
    session.flush()
    log.info(
        "institution_status",
        institution=code,
        from_status=event.from_status,
        to_status=to.value,
        actor=actor,
    )
    return event


# ---- applying -----------------------------------------------------------------------------------


def apply(
    session: Session,
    *,
    spec: InstitutionApply,
    actor: str,
    at: datetime | None = None,
    allow_reapply: bool = False,
) -> InstitutionRead:
    """Record an application (status ``applied``).

    A code or USCC already on file is a conflict, except that an operator may re-open a rejected
    or withdrawn institution (``allow_reapply``): its details are replaced and it starts again.
    """
    at = at or utcnow()
    existing = session.get(Institution, spec.code)
    same_uscc = session.scalar(select(Institution.code).where(Institution.uscc == spec.uscc))
    if same_uscc is not None and same_uscc != spec.code:
        raise Conflict(
            f"USCC {spec.uscc} is already on file as institution {same_uscc}", field="uscc"
        )
    reopen = existing is not None and InstitutionStatus(existing.status) in (
        S.rejected,
        S.withdrawn,
    )
    if existing is not None and not (reopen and allow_reapply):
        hint = (
            "an operator can re-open it"
            if reopen
            else f"it is {existing.status}; choose another code"
        )
        raise Conflict(f"institution {spec.code} already exists ({hint})", field="code")
    values = spec.model_dump(mode="json")
    inst = existing or Institution(code=spec.code, status=S.applied.value)
    for field in (
        "name",
        "uscc",
        "kind",
        "license_number",
        "contact_department",
        "contact_phone",
        "contact_email",
        "address",
        "requested_purposes",
        "regions",
    ):
        setattr(inst, field, values[field])
    inst.allowed_purposes = []
    inst.daily_quota = None
    inst.applied_at = at
    if existing is None:
        inst.status_changed_at = at
        session.add(inst)
        session.flush()
        _event(session, inst.code, None, S.applied, actor=actor, reason="application", at=at)
    else:
        inst.assessment_valid_until = None
        inst.reassessment_due_date = None
        transition(session, inst, S.applied, actor=actor, reason="re-application", at=at)
    return _read(inst)


# ---- decisions without an assessment ------------------------------------------------------------


def assessment_in_progress(session: Session, code: str) -> SecurityAssessment | None:
    return session.scalar(
        select(SecurityAssessment).where(
            SecurityAssessment.institution_code == code,
            SecurityAssessment.status == AssessmentStatus.in_progress.value,
        )
    )


def reject(
    session: Session, *, code: str, actor: str, reason: str, at: datetime | None = None
) -> InstitutionRead:
    """Reject a pending application, or the reassessment in progress of a connected one.

    An applied or under-assessment institution becomes ``rejected``. For an active or suspended
    institution only the reassessment is rejected: the assessment in force stays valid until it
    expires (then :func:`enforce_expiry` suspends it).
    """
    at = at or utcnow()
    inst = institution_row(session, code, for_update=True)
    pending = assessment_in_progress(session, code)
    status = InstitutionStatus(inst.status)
    if status in (S.active, S.suspended) and pending is None:
        raise InvalidTransition(
            f"institution {code} is {status.value} and has no assessment in progress to reject; "
            "suspend it instead",
            code=code,
        )
    if pending is not None:
        pending.status = AssessmentStatus.rejected.value
        pending.approver = actor
        pending.decided_at = at
        pending.decision_reason = reason
    if status not in (S.active, S.suspended):
        transition(session, inst, S.rejected, actor=actor, reason=reason, at=at)
    session.flush()
    return _read(inst)


def suspend(
    session: Session, *, code: str, actor: str, reason: str, at: datetime | None = None
) -> InstitutionRead:
    """Suspend an active institution: from the next request on it has no access."""
    at = at or utcnow()
    inst = institution_row(session, code, for_update=True)
    transition(session, inst, S.suspended, actor=actor, reason=reason, at=at)
    session.flush()
    return _read(inst)


def reinstate(
    session: Session, *, code: str, actor: str, reason: str, at: datetime | None = None
) -> InstitutionRead:
    """Re-activate a suspended institution; its assessment must still be valid."""
    at = at or utcnow()
    inst = institution_row(session, code, for_update=True)
    if InstitutionStatus(inst.status) is S.suspended and (
        inst.assessment_valid_until is None or inst.assessment_valid_until <= at
    ):
        until = inst.assessment_valid_until
        raise InvalidTransition(
            f"institution {code} cannot be reinstated: its security assessment "
            + (f"expired at {until.isoformat()}" if until else "is missing")
            + "; approve a new assessment first (`rongxin institutions assess`)",
            code=code,
        )
    transition(session, inst, S.active, actor=actor, reason=reason, at=at)
    session.flush()
    return _read(inst)


def withdraw(
    session: Session, *, code: str, actor: str, reason: str, at: datetime | None = None
) -> InstitutionRead:
    """The institution leaves: status ``withdrawn``, its API keys revoked, assessment cancelled."""
    at = at or utcnow()
    inst = institution_row(session, code, for_update=True)
    transition(session, inst, S.withdrawn, actor=actor, reason=reason, at=at)
    pending = assessment_in_progress(session, code)
    if pending is not None:
        pending.status = AssessmentStatus.cancelled.value
        pending.decided_at = at
        pending.decision_reason = reason
    for key in access_service.list_api_keys(session, kind=PrincipalKind.institution):
        if key.principal_code == code and key.revoked_at is None:
            access_service.revoke_api_key(session, key_id=key.key_id)
    inst.assessment_valid_until = None
    inst.reassessment_due_date = None
    session.flush()
    return _read(inst)


# ---- expiry -------------------------------------------------------------------------------------


def due_for_reassessment(session: Session, *, at: datetime | None = None) -> list[DueRead]:
    """Connected institutions whose reassessment is due on or before ``at``'s China-time day
    (expired ones included), soonest expiry first."""
    at = at or utcnow()
    rows = session.scalars(
        select(Institution)
        .where(
            Institution.status.in_([S.active.value, S.suspended.value]),
            Institution.reassessment_due_date <= china_day(at),
        )
        .order_by(Institution.assessment_valid_until, Institution.code)
    )
    return [
        DueRead(
            code=inst.code,
            name=inst.name,
            status=InstitutionStatus(inst.status),
            assessment_valid_until=inst.assessment_valid_until,
            reassessment_due_date=inst.reassessment_due_date,
            expired=inst.assessment_valid_until <= at,
        )
        for inst in rows
        if inst.assessment_valid_until is not None and inst.reassessment_due_date is not None
    ]


def enforce_expiry(
    session: Session, *, at: datetime | None = None, actor: str = SYSTEM_ACTOR
) -> list[InstitutionRead]:
    """Suspend every active institution whose security assessment expired by ``at``."""
    at = at or utcnow()
    expired = session.scalars(
        select(Institution)
        .where(
            Institution.status == S.active.value,
            Institution.assessment_valid_until <= at,
        )
        .order_by(Institution.code)
        .with_for_update()
    ).all()
    suspended = []
    for inst in expired:
        until = inst.assessment_valid_until
        reason = f"security assessment expired at {until.isoformat() if until else '—'}"
        transition(session, inst, S.suspended, actor=actor, reason=reason, at=at)
        suspended.append(_read(inst))
    session.flush()
    return suspended


# ---- status (per request) -----------------------------------------------------------------------


def institution_status(session: Session, code: str) -> InstitutionStatus | None:
    """The institution's status, or ``None`` when it was never onboarded (one indexed read)."""
    found = session.scalar(select(Institution.status).where(Institution.code == code))
    return InstitutionStatus(found) if found is not None else None


def is_active(session: Session, code: str, *, at: datetime | None = None) -> bool:
    """Whether the institution may use the platform now: onboarded, ``active`` and its
    assessment not expired (so access ends at expiry even before :func:`enforce_expiry` runs).
    """
    return _may_act(session.connection().execute(_ACCESS, {"code": code}).one_or_none(), at)


def _may_act(row: Any, at: datetime | None) -> bool:
    if row is None or row.status != S.active.value:
        return False
    until: datetime | None = row.assessment_valid_until
    return until is not None and until > (at or utcnow())


def allowed_purposes(session: Session, code: str) -> frozenset[Purpose]:
    """The purposes an institution was approved for (empty when not onboarded), for the access
    policy's purpose check (Z2). One indexed read."""
    found = session.connection().scalar(_PURPOSES, {"code": code})  # Core: no ORM layer
    return frozenset(Purpose(p) for p in found or ())


# built once (every institution request runs them): no statement construction per call
_ACCESS = select(
    Institution.status, Institution.assessment_valid_until, Institution.daily_quota
).where(Institution.code == bindparam("code"))
_PURPOSES = select(Institution.allowed_purposes).where(Institution.code == bindparam("code"))


def require_active(session: Session, code: str, *, at: datetime | None = None) -> None:
    """Raise :class:`InstitutionNotActive` unless :func:`is_active`."""
    active_quota(session, code, at=at)


def active_quota(session: Session, code: str, *, at: datetime | None = None) -> int | None:
    """The daily read quota of an institution that may use the platform now (:func:`is_active`),
    read with its status in one statement; :class:`InstitutionNotActive` otherwise."""
    row = session.connection().execute(_ACCESS, {"code": code}).one_or_none()
    if row is None or not _may_act(row, at):
        status = institution_status(session, code)
        state = status.value if status else "not onboarded"
        raise InstitutionNotActive(
            f"institution {code} has no access to the platform ({state}); "
            "contact the platform operator",
            code=code,
        )
    quota: int | None = row.daily_quota
    return quota


# ---- reading ------------------------------------------------------------------------------------


def get_institution(session: Session, *, code: str) -> InstitutionRead:
    return _read(institution_row(session, code))


def list_institutions(
    session: Session,
    *,
    status: InstitutionStatus | None = None,
    code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[InstitutionRead]:
    """Institutions by status (newest application first); ``code`` narrows to one."""
    stmt = select(Institution)
    if status is not None:
        stmt = stmt.where(Institution.status == status.value)
    if code is not None:
        stmt = stmt.where(Institution.code == code)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Institution.applied_at.desc(), Institution.code).limit(limit).offset(offset)
    )
    return Page(items=[_read(i) for i in rows], total=total, limit=limit, offset=offset)


def status_counts(session: Session) -> dict[InstitutionStatus, int]:
    """How many institutions are in each status (every status present, zero or more)."""
    counts = dict.fromkeys(InstitutionStatus, 0)
    for status, n in session.execute(
        select(Institution.status, func.count()).group_by(Institution.status)
    ):
        counts[InstitutionStatus(status)] = n
    return counts


def list_events(session: Session, *, code: str) -> list[EventRead]:
    """The institution's status history, oldest first."""
    institution_row(session, code)
    rows = session.scalars(
        select(InstitutionEvent)
        .where(InstitutionEvent.institution_code == code)
        .order_by(InstitutionEvent.id)
    )
    return [EventRead.model_validate(e) for e in rows]


def ensure_aware(at: datetime) -> datetime:
    """``at`` as an aware UTC moment (a naive one is refused: no guessing of time zones)."""
    if at.tzinfo is None:
        raise InvalidInput("a moment needs a time zone, e.g. 2026-01-01T00:00:00+08:00", field="at")
    return at.astimezone(UTC)
