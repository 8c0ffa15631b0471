"""TOTP (RFC 6238) for person accounts: secrets encrypted at rest, codes checked with drift.

A secret is encrypted with AES-GCM under a key derived from ``Settings.secret_key``
(:mod:`rongxin.access.keys`) with the account id as associated data, so a ciphertext cannot be
moved to another account. Codes are 6 digits for 30-second steps; the step before and after
are accepted (clock drift). Which step matched is returned so that the caller can refuse a
step that was already used (replay protection, :mod:`rongxin.access.users`).
"""

from __future__ import annotations

import base64
import hmac
import secrets
from datetime import datetime
from typing import Final

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rongxin.access.keys import KeyPurpose, derive_key
from rongxin.config import Settings

STEP_SECONDS: Final = 30
DRIFT_STEPS: Final = 1
ISSUER: Final = "rongxin"
_CIPHER_VERSION: Final = "v1"


def new_secret() -> str:
    return pyotp.random_base32()


def encrypt_secret(settings: Settings, *, user_id: str, secret: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(derive_key(settings, KeyPurpose.totp_secret)).encrypt(
        nonce, secret.encode(), user_id.encode()
    )
    return f"{_CIPHER_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt_secret(settings: Settings, *, user_id: str, stored: str) -> str | None:
    """The plain secret, or None when it cannot be read (other key, other account, damage)."""
    version, _, body = stored.partition(":")
    if version != _CIPHER_VERSION:
        return None
    try:
        raw = base64.urlsafe_b64decode(body.encode())
        plain = AESGCM(derive_key(settings, KeyPurpose.totp_secret)).decrypt(
            raw[:12], raw[12:], user_id.encode()
        )
    except (InvalidTag, ValueError):
        return None
    return plain.decode()


def provisioning_uri(secret: str, *, username: str, settings: Settings) -> str:
    issuer = f"{ISSUER} {settings.node_id}"
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=issuer
    )


def matching_step(secret: str, code: str, *, now: datetime) -> int | None:
    """The time step whose code is ``code`` (now ± drift), compared in constant time."""
    code = code.strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    found: int | None = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS).encode(), code.encode()):
            found = step
    return found


def code_at(secret: str, *, at: datetime) -> str:
    """The code an authenticator shows at ``at`` (the CLI and tests use it)."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).at(at)
