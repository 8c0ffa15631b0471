"""OAuth2 client credentials (RFC 6749 §4.4): short-lived signed access tokens for systems.

An institution's or provider's API key is its OAuth2 client: ``client_id`` is the key id,
``client_secret`` the secret part of ``rx_<key_id>_<secret>``. ``POST /api/v1/oauth/token``
exchanges them for a JWT (HS256, key derived from ``Settings.secret_key``) that lives
``access_token_minutes`` and carries ``sub`` (the key id), ``kind``, ``code``, ``jti``, ``iat``,
``exp`` and ``iss`` (this node). Verifying a token checks signature, issuer and expiry here;
the request edge then checks the key itself (:func:`rongxin.access.service.principal_is_active`)
so that revoking the key — or suspending its holder — cuts access before the token expires.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Final

import jwt
from sqlalchemy.orm import Session

from rongxin.access import service
from rongxin.access.errors import OAuthError, Unauthenticated
from rongxin.access.keys import KeyPurpose, derive_key
from rongxin.access.models import ApiKey
from rongxin.access.schemas import AccessToken, Principal, PrincipalKind
from rongxin.config import Settings
from rongxin.db.base import utcnow
from rongxin.logging import get_logger

log = get_logger(__name__)

ALGORITHM: Final = "HS256"
GRANT_TYPE: Final = "client_credentials"
#: the kinds of system that may use the client-credentials grant
CLIENT_KINDS: Final = frozenset({PrincipalKind.institution, PrincipalKind.provider})
REQUIRED_CLAIMS: Final = ("sub", "kind", "code", "jti", "iat", "exp", "iss")
INVALID_CREDENTIALS: Final = "missing, unknown, expired or revoked credentials"


def issuer(settings: Settings) -> str:
    return f"rongxin:{settings.node_id}"


def _sign(settings: Settings, key: ApiKey, *, now: datetime) -> AccessToken:
    lifetime = timedelta(minutes=settings.access_token_minutes)
    jti = uuid.uuid4().hex
    claims: dict[str, Any] = {
        "iss": issuer(settings),
        "sub": key.key_id,
        "kind": key.principal_kind,
        "code": key.principal_code,
        "jti": jti,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    token = jwt.encode(claims, derive_key(settings, KeyPurpose.access_token), algorithm=ALGORITHM)
    log.info(
        "access_token_issued",
        key_id=key.key_id,
        kind=key.principal_kind,
        code=key.principal_code,
        jti=jti,
    )
    return AccessToken(access_token=token, expires_in=int(lifetime.total_seconds()))


def issue_access_token(
    session: Session,
    *,
    settings: Settings,
    client_id: str,
    client_secret: str,
    now: datetime | None = None,
) -> AccessToken:
    """Exchange a key's id and secret for an access token (the token endpoint).

    Raises :class:`OAuthError` ``invalid_client`` (401) for an unknown, wrong, revoked or
    expired client — one message for all — and ``unauthorized_client`` (400) for a key whose
    kind may not use this grant.
    """
    refused = OAuthError("invalid_client", "client authentication failed", status=401)
    if not client_id or "_" in client_id or not client_secret:
        raise refused
    try:
        principal = service.authenticate(
            session, token=f"{service.TOKEN_PREFIX}{client_id}_{client_secret}"
        )
    except Unauthenticated:
        log.info("access_token_refused", reason="invalid_client")
        raise refused from None
    if not service.principal_is_active(session, principal):
        log.info("access_token_refused", reason="inactive", key_id=client_id)
        raise refused
    if principal.kind not in CLIENT_KINDS:
        raise OAuthError(
            "unauthorized_client",
            "the client-credentials grant is for institution and provider keys; "
            f"a {principal.kind.value} key authenticates with its rx_ token directly",
        )
    key = session.get(ApiKey, client_id)
    assert key is not None  # noqa: S101 - authenticate() just found it
    return _sign(settings, key, now=now or utcnow())


def issue_for_key(
    session: Session, *, settings: Settings, key_id: str, now: datetime | None = None
) -> AccessToken:
    """A token for a key by id, without its secret (``rongxin access token``: the CLI already
    holds the database). The key must be active and of a client kind."""
    principal = service.principal_for_key(session, key_id=key_id)
    if not service.principal_is_active(session, principal):
        raise Unauthenticated("the key is no longer active")
    if principal.kind not in CLIENT_KINDS:
        raise OAuthError(
            "unauthorized_client",
            f"access tokens are for institution and provider keys, not {principal.kind.value}",
        )
    key = session.get(ApiKey, key_id)
    assert key is not None  # noqa: S101 - principal_for_key() just found it
    return _sign(settings, key, now=now or utcnow())


def verify_access_token(
    *, settings: Settings, token: str, now: datetime | None = None
) -> Principal:
    """The principal a token names, if its signature, issuer and expiry are right.

    Does not look at the database: the caller must still check the key
    (:func:`rongxin.access.service.principal_is_active`). Raises Unauthenticated with one
    message for every failure.
    """
    try:
        claims = jwt.decode(
            token,
            derive_key(settings, KeyPurpose.access_token),
            algorithms=[ALGORITHM],
            issuer=issuer(settings),
            options={"require": list(REQUIRED_CLAIMS), "verify_exp": False},
        )
        kind = PrincipalKind(claims["kind"])
        expires = int(claims["exp"])
        key_id, code = str(claims["sub"]), str(claims["code"])
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        raise Unauthenticated(INVALID_CREDENTIALS) from None
    if expires <= int((now or utcnow()).timestamp()):
        raise Unauthenticated(INVALID_CREDENTIALS)
    return Principal(kind=kind, code=code, key_id=key_id)
