"""Issuing, verifying and revoking API keys (tokens look like ``rx_<key_id>_<secret>``), and
the one check that a principal may still act (:func:`principal_is_active`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.orm import Session

from rongxin.access import users
from rongxin.access.errors import Unauthenticated
from rongxin.access.models import ApiKey
from rongxin.access.schemas import ApiKeyCreated, ApiKeyRead, Principal, PrincipalKind
from rongxin.db.base import utcnow
from rongxin.db.session import take_writer
from rongxin.errors import InvalidInput, NotFound

LAST_USED_GRANULARITY = timedelta(minutes=1)
TOKEN_PREFIX = "rx_"  # noqa: S105 - a public prefix, not a secret


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    session: Session,
    *,
    kind: PrincipalKind,
    code: str,
    label: str = "",
    expires_at: datetime | None = None,
) -> ApiKeyCreated:
    if not code or len(code) > 64:
        raise InvalidInput("principal code must be 1–64 characters")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        key_id=key_id,
        principal_kind=kind.value,
        principal_code=code,
        label=label,
        secret_sha256=_digest(secret),
        created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    read = ApiKeyRead.model_validate(key)
    return ApiKeyCreated(**read.model_dump(), token=f"{TOKEN_PREFIX}{key_id}_{secret}")


def authenticate(session: Session, *, token: str) -> Principal:
    """The principal behind an ``rx_`` API key that may act now (the key neither revoked nor
    expired, and :func:`principal_is_active`), or Unauthenticated (never says which part
    failed)."""
    failure = Unauthenticated("missing, unknown, expired or revoked API key")
    if not token.startswith(TOKEN_PREFIX):
        raise failure
    key_id, _, secret = token[len(TOKEN_PREFIX) :].partition("_")
    key = _key_state(session, key_id) if key_id and secret else None
    if key is None or not hmac.compare_digest(key.secret_sha256, _digest(secret)):
        raise failure
    now = utcnow()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        raise failure
    principal = Principal(
        kind=PrincipalKind(key.principal_kind), code=key.principal_code, key_id=key_id
    )
    # the one hook for cutting access, handed the key row just read (not read again)
    if not principal_is_active(session, principal, key=key):
        raise failure
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_GRANULARITY:
        # coarse, so that busy keys do not write on every request; queued for the writer lock
        take_writer(session)
        session.connection().execute(_STAMP, {"key": key_id, "now": now})
    return principal


# Every authenticated request reads its key: Core statements built once, no ORM identity map.
_KEY_STATE = select(
    ApiKey.secret_sha256,
    ApiKey.principal_kind,
    ApiKey.principal_code,
    ApiKey.revoked_at,
    ApiKey.expires_at,
    ApiKey.last_used_at,
).where(ApiKey.key_id == bindparam("key"))
_STAMP = (
    update(ApiKey).where(ApiKey.key_id == bindparam("key")).values(last_used_at=bindparam("now"))
)
_KeyRow: TypeAlias = Row[*tuple[Any, ...]]


def _key_state(session: Session, key_id: str) -> _KeyRow | None:
    return session.connection().execute(_KEY_STATE, {"key": key_id}).one_or_none()


def principal_for_key(session: Session, *, key_id: str) -> Principal:
    """The principal of a key that is still valid, looked up by id (web sessions re-check it).

    For a caller that already authenticated with the full token once (a signed session cookie
    holds only the key id); raises Unauthenticated when the key is unknown, revoked or expired.
    """
    key = session.get(ApiKey, key_id) if key_id else None
    if key is None or key.revoked_at is not None:
        raise Unauthenticated("unknown or revoked API key")
    if key.expires_at is not None and key.expires_at <= utcnow():
        raise Unauthenticated("expired API key")
    return Principal(kind=PrincipalKind(key.principal_kind), code=key.principal_code, key_id=key_id)


def revoke_api_key(session: Session, *, key_id: str) -> ApiKeyRead:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"no API key {key_id!r}; `rongxin access key list` shows them")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    session.flush()
    return ApiKeyRead.model_validate(key)


def list_api_keys(session: Session, *, kind: PrincipalKind | None = None) -> list[ApiKeyRead]:
    stmt = select(ApiKey).order_by(ApiKey.created_at)
    if kind is not None:
        stmt = stmt.where(ApiKey.principal_kind == kind.value)
    return [ApiKeyRead.model_validate(k) for k in session.scalars(stmt)]


def principal_is_active(
    session: Session, principal: Principal, *, key: _KeyRow | None = None
) -> bool:
    """Whether ``principal`` may still act, checked on every request (API and pages).

    The one hook for cutting access at once: the API key behind it (an ``rx_`` key or the
    client of an OAuth2 access token) must exist, be neither revoked nor expired and still name
    the same party; a person's account must be active. Suspension of the party itself (an
    institution, issue 4 item 2) plugs in here. Primary-key lookups only; ``key``: the API
    key's row when the caller has just read it in this transaction (``authenticate``).
    """
    if principal.key_id is None and principal.user_id is None:
        return False
    now = utcnow()
    if principal.key_id is not None:
        if key is None:
            key = _key_state(session, principal.key_id)
        if key is None or key.revoked_at is not None:
            return False
        if key.expires_at is not None and key.expires_at <= now:
            return False
        if key.principal_kind != principal.kind.value or key.principal_code != principal.code:
            return False
    if principal.kind is PrincipalKind.institution:
        # Onboarding (M4, Z1): only an onboarded institution that is active and whose security
        # assessment has not expired may act; suspension cuts access at once. Imported here:
        # institutions.service itself issues keys through this module.
        from rongxin.institutions import service as institutions_service

        if not institutions_service.is_active(session, principal.code, at=now):
            return False
    return principal.user_id is None or users.user_is_active(session, principal)
