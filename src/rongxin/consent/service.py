"""Enterprise authorizations: reading them, and the check every read of non-public data relies
on (:func:`active_authorization`, called by the access policy). Requests are made in
:mod:`rongxin.consent.requests`; the enterprise's decisions and expiry are in
:mod:`rongxin.consent.lifecycle`.

Every function takes the moment it acts at (``now`` / ``at``) from its caller, so expiry is
computed, not scheduled: an authorization whose ``valid_until`` has passed reads as
``expired`` at once, with or without :func:`rongxin.consent.lifecycle.expire_due` (which records
the ``expired`` events for reporting). Services flush, never commit; the edge commits.

Visibility is a filter, not a check after the fact: the caller passes the enterprise's USCC or
the institution's code it acts for, and an authorization of someone else is "not found".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, TypeAlias

from sqlalchemy import ColumnElement, Row, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from rongxin.access.schemas import Principal, Purpose
from rongxin.audit import service as audit_service
from rongxin.audit.schemas import AccessEvent, ActorKind, Outcome
from rongxin.consent import evidence
from rongxin.consent.errors import AuthorizationNotFound, InvalidAuthorizationRequest
from rongxin.consent.models import Authorization, AuthorizationEvent
from rongxin.consent.schemas import (
    ApprovalChannel,
    AuthorizationAction,
    AuthorizationDetail,
    AuthorizationEventRead,
    AuthorizationMode,
    AuthorizationRead,
    AuthorizationStatus,
    EvidenceRead,
    FetchFrequency,
)
from rongxin.kit.pagination import Page

#: states whose validity window still matters (they become "expired" when it ends)
LIVE: Final = (
    AuthorizationStatus.requested,
    AuthorizationStatus.active,
    AuthorizationStatus.paused,
)
SYSTEM_KIND: Final = "system"
SYSTEM_CODE: Final = "rongxin"
READ_MODES: Final = ("view", "verify")


def require_aware(value: datetime, field: str) -> datetime:
    """``value`` when it carries a time zone; else an error naming ``field``."""
    if value.tzinfo is None:
        raise InvalidAuthorizationRequest(
            f"{field}: needs a time zone, e.g. 2026-01-01T00:00:00+08:00", field=field
        )
    return value


def actor_id(actor: Principal) -> str:
    """The user or credential that acted (never a personal name)."""
    return actor.user_id or actor.key_id or f"{actor.kind.value}:{actor.code}"


def record_event(
    session: Session,
    row: Authorization,
    *,
    action: AuthorizationAction,
    to: AuthorizationStatus,
    actor: Principal | None,
    at: datetime,
    reason: str = "",
) -> None:
    """Move ``row`` to ``to`` and append the state change (``actor`` None: the platform).

    The change also goes to the access log, so that the enterprise's access history shows
    every grant, revocation and expiry next to the reads (the free-text reason stays here)."""
    first = action is AuthorizationAction.request
    session.add(
        AuthorizationEvent(
            authorization_id=row.id,
            action=action.value,
            from_status=None if first else row.status,
            to_status=to.value,
            actor_kind=actor.kind.value if actor else SYSTEM_KIND,
            actor_code=actor.code if actor else SYSTEM_CODE,
            actor_id=actor_id(actor) if actor else None,
            at=at,
            reason=reason[:500],
        )
    )
    audit_service.append(
        session,
        [
            AccessEvent(
                action=f"consent.{action.value}",
                actor_kind=ActorKind(actor.kind.value) if actor else ActorKind.system,
                actor_code=actor.code if actor else SYSTEM_CODE,
                user_id=actor.user_id if actor else None,
                uscc=row.uscc,
                items=list(row.items),
                purpose=Purpose(row.purpose),
                authorization_id=row.id,
                outcome=Outcome.allowed,
                detail=f"{row.institution_code}: {row.status if not first else '-'} → {to.value}",
                occurred_at=at,
            )
        ],
    )
    row.status = to.value
    row.status_changed_at = at


# ---- reading ------------------------------------------------------------------------------------


#: an authorization as stored: the ORM object, or a plain row of its columns (hot reads)
AuthorizationRow: TypeAlias = Authorization | Row[Any]


def effective_status(row: AuthorizationRow, at: datetime) -> AuthorizationStatus:
    """The status at ``at``: a live authorization whose window has ended is expired."""
    status = AuthorizationStatus(row.status)
    if status in LIVE and at >= row.valid_until:
        return AuthorizationStatus.expired
    return status


def to_read(row: AuthorizationRow, at: datetime) -> AuthorizationRead:
    status = effective_status(row, at)
    overdue = (
        status is AuthorizationStatus.active
        and row.reconfirm_due_at is not None
        and at >= row.reconfirm_due_at
    )
    return AuthorizationRead(
        id=row.id,
        version=row.version,
        supersedes_id=row.supersedes_id,
        uscc=row.uscc,
        institution_code=row.institution_code,
        loan_application_ref=row.loan_application_ref,
        purpose=Purpose(row.purpose),
        template_version=row.template_version,
        items=list(row.items),
        access_mode=AuthorizationMode(row.access_mode),
        fetch_frequency=FetchFrequency(row.fetch_frequency) if row.fetch_frequency else None,
        data_from_date=row.data_from_date,
        data_to_date=row.data_to_date,
        retention_days=row.retention_days,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        reconfirm_days=row.reconfirm_days,
        reconfirm_due_at=row.reconfirm_due_at,
        status=status,
        needs_reconfirmation=overdue,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        approval_channel=ApprovalChannel(row.approval_channel) if row.approval_channel else None,
        risk_notice_version=row.risk_notice_version,
        risk_notice_sha256=row.risk_notice_sha256,
        status_changed_at=row.status_changed_at,
    )


def load_authorization(
    session: Session,
    authorization_id: str,
    *,
    uscc: str | None = None,
    institution_code: str | None = None,
    for_update: bool = False,
) -> Authorization:
    stmt = select(Authorization).where(Authorization.id == authorization_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).one_or_none()
    hidden = row is None or (
        (uscc is not None and row.uscc != uscc)
        or (institution_code is not None and row.institution_code != institution_code)
    )
    if row is None or hidden:
        raise AuthorizationNotFound(
            f"no authorization {authorization_id!r} is visible to you; "
            "GET /api/v1/consent/authorizations lists yours",
            authorization_id=authorization_id,
        )
    return row


def list_events(session: Session, *, authorization_id: str) -> list[AuthorizationEventRead]:
    stmt = (
        select(AuthorizationEvent)
        .where(AuthorizationEvent.authorization_id == authorization_id)
        .order_by(AuthorizationEvent.id)
    )
    return [AuthorizationEventRead.model_validate(e) for e in session.scalars(stmt)]


def get_authorization(
    session: Session,
    *,
    authorization_id: str,
    now: datetime,
    uscc: str | None = None,
    institution_code: str | None = None,
) -> AuthorizationDetail:
    """One authorization with its state history (``uscc`` / ``institution_code``: the caller's
    scope; another party's authorization is not found)."""
    row = load_authorization(
        session, authorization_id, uscc=uscc, institution_code=institution_code
    )
    return AuthorizationDetail(
        **to_read(row, now).model_dump(),
        events=list_events(session, authorization_id=row.id),
    )


def _status_filter(status: AuthorizationStatus, now: datetime) -> ColumnElement[bool]:
    if status is AuthorizationStatus.expired:
        return or_(
            Authorization.status == status.value,
            and_(
                Authorization.status.in_([s.value for s in LIVE]), Authorization.valid_until <= now
            ),
        )
    if status in LIVE:
        return and_(Authorization.status == status.value, Authorization.valid_until > now)
    return Authorization.status == status.value


def list_authorizations(
    session: Session,
    *,
    now: datetime,
    uscc: str | None = None,
    institution_code: str | None = None,
    statuses: Sequence[AuthorizationStatus] = (),
    limit: int = 50,
    offset: int = 0,
) -> Page[AuthorizationRead]:
    """Authorizations newest first, filtered by enterprise, institution and (effective) status."""
    conditions: list[ColumnElement[bool]] = []
    if uscc is not None:
        conditions.append(Authorization.uscc == uscc)
    if institution_code is not None:
        conditions.append(Authorization.institution_code == institution_code)
    if statuses:
        conditions.append(or_(*(_status_filter(s, now) for s in statuses)))
    total = session.scalar(select(func.count()).select_from(Authorization).where(*conditions))
    stmt = (
        select(Authorization)
        .where(*conditions)
        .order_by(Authorization.requested_at.desc(), Authorization.id)
        .limit(limit)
        .offset(offset)
    )
    items = [to_read(r, now) for r in session.scalars(stmt)]
    return Page[AuthorizationRead](items=items, total=total or 0, limit=limit, offset=offset)


def active_authorizations(
    session: Session,
    *,
    institution_code: str,
    uscc: str,
    purpose: Purpose,
    at: datetime,
) -> list[AuthorizationRead]:
    """Every authorization ``uscc`` granted ``institution_code`` for ``purpose`` that is active
    at ``at`` (approved, not paused, revoked or expired, inside its window), longest lasting
    first — one indexed query, for callers that decide several items at once.

    Item scope, mode and reconfirmation are per read: see :func:`active_authorization` (or
    ``AuthorizationRead.allows_mode`` and ``needs_reconfirmation``).
    """
    params = {"uscc": uscc, "institution": institution_code, "purpose": purpose.value, "at": at}
    rows = session.connection().execute(_ACTIVE_FOR_PURPOSE, params)  # Core: no ORM layer
    return [to_read(row, at) for row in rows]


# built once (every report runs it, mostly finding nothing): no statement construction per
# call, plain column rows
_ACTIVE_FOR_PURPOSE = (
    select(*Authorization.__table__.c)
    .where(
        Authorization.uscc == bindparam("uscc"),
        Authorization.institution_code == bindparam("institution"),
        Authorization.status == AuthorizationStatus.active.value,
        Authorization.purpose == bindparam("purpose"),
        Authorization.valid_from <= bindparam("at"),
        Authorization.valid_until > bindparam("at"),
    )
    .order_by(Authorization.valid_until.desc(), Authorization.id)
)


def active_authorization(
    session: Session,
    *,
    institution_code: str,
    uscc: str,
    item_code: str,
    purpose: Purpose,
    mode: str,
    at: datetime,
) -> AuthorizationRead | None:
    """The authorization under which ``institution_code`` may read ``item_code`` about
    ``uscc`` for ``purpose`` in ``mode`` ("view" or "verify") at ``at``, or ``None``.

    It must be active (approved, not paused, revoked or expired), inside its validity window,
    name the item and the purpose, allow the mode (``verify_only`` allows only "verify") and,
    when periodic, not be overdue for reconfirmation. Of several, the one lasting longest wins.
    The caller still applies the data date range (``data_from_date`` … ``data_to_date``).
    """
    if mode not in READ_MODES:
        raise ValueError(f"mode must be one of {READ_MODES}, not {mode!r}")
    grants = active_authorizations(
        session, institution_code=institution_code, uscc=uscc, purpose=purpose, at=at
    )
    for grant in grants:
        if item_code in grant.items and grant.allows_mode(mode) and not grant.needs_reconfirmation:
            return grant
    return None


# ---- evidence -----------------------------------------------------------------------------------


def verify_evidence(
    session: Session,
    *,
    authorization_id: str,
    key: evidence.EvidenceKey,
    uscc: str | None = None,
    institution_code: str | None = None,
) -> EvidenceRead:
    """The signed record of an approval and whether it verifies with this node's key."""
    row = load_authorization(
        session, authorization_id, uscc=uscc, institution_code=institution_code
    )
    ok, reason = evidence.verify(row, key)
    canonical = row.evidence_canonical or ""
    record = evidence.parse_record(canonical)
    return EvidenceRead(
        authorization_id=row.id,
        alg=row.evidence_alg or evidence.ALG,
        key_id=row.evidence_key_id or "",
        public_key=key.public_key_b64,
        canonical=canonical,
        record=record,
        signature=row.evidence_signature or "",
        verified=ok,
        reason=reason,
    )
