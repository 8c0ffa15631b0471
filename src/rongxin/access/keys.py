"""Keys derived from ``Settings.secret_key``: one per purpose, never the secret itself.

Each use of key material (signing access tokens, encrypting TOTP secrets, pseudonymising client
addresses) gets its own 32-byte key from HKDF-SHA256 with the purpose as ``info``, so one use
can never be turned against another and a purpose can be rotated by changing its label.

Outside production the secret key may be unset. Then a random key is created once in
``RONGXIN_DATA_DIR/secret.key`` (mode 0600) and used by every process of the node — the web
server and the CLI must agree on it, or tokens the CLI issues would not verify and TOTP
secrets written by one could not be read by the other. Production refuses to start without
``RONGXIN_SECRET_KEY`` (config.py).
"""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from rongxin.config import Environment, Settings
from rongxin.errors import InvalidInput

DEVELOPMENT_KEY_FILE: Final = "secret.key"
KEY_BYTES: Final = 32
_SALT: Final = b"rongxin key derivation v1"


class KeyPurpose(StrEnum):
    """What a derived key is for (the HKDF ``info``); change the version to rotate one."""

    access_token = "access-token-signing/v1"  # noqa: S105 - a label, not a secret
    totp_secret = "totp-secret-encryption/v1"  # noqa: S105 - a label, not a secret
    client_pseudonym = "client-pseudonym/v1"


def root_secret(settings: Settings) -> bytes:
    """The configured secret key, or (outside production) the node's development key file."""
    if settings.secret_key:
        return settings.secret_key.encode()
    if settings.environment is Environment.production:  # config.py refuses this already
        raise InvalidInput("RONGXIN_SECRET_KEY must be set when RONGXIN_ENVIRONMENT=production")
    return _development_secret(settings.data_dir.resolve())


@lru_cache(maxsize=8)
def _development_secret(data_dir: Path) -> bytes:
    path = data_dir / DEVELOPMENT_KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # another process (or an earlier run) made it
    else:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(KEY_BYTES))
    text = path.read_text(encoding="ascii").strip()
    if len(text) < KEY_BYTES:
        raise InvalidInput(
            f"{path}: the development secret key is too short or empty; delete the file "
            "(a new one is made) or set RONGXIN_SECRET_KEY"
        )
    return text.encode()


@lru_cache(maxsize=64)
def _derive(root: bytes, purpose: KeyPurpose) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=_SALT, info=purpose.encode())
    return hkdf.derive(root)


def derive_key(settings: Settings, purpose: KeyPurpose) -> bytes:
    """The 32-byte key for ``purpose``."""
    return _derive(root_secret(settings), purpose)
