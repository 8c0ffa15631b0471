"""The hash chain's canonical form and the checkpoint signing key.

Entry hash (version 1)::

    entry_hash = SHA-256( b"rongxin/audit-entry/v1\\n" + JSON array )

where the JSON array is, in this order, ``[hash_version, occurred_at, action, actor_kind,
actor_code, user_id, uscc, items, purpose, authorization_id, outcome, detail, request_id,
node_id, prev_hash]``, serialized as UTF-8 without whitespace (``separators=(",", ":")``,
non-ASCII characters as themselves), ``null`` for a missing value, ``occurred_at`` as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, microseconds) and ``items`` as the exact stored JSON text.
The entry's ``seq`` is deliberately not inside its own hash: an entry's place in the chain is
fixed by the link to its predecessor's hash and by the signed checkpoints (which bind a seq to a
hash), and keeping it out lets ``verify`` tell an intact entry that was moved from one that was
edited. The first entry links to ``GENESIS_HASH`` (64 zeros).

Checkpoint signature (version 1): Ed25519 over ``b"rongxin/audit-checkpoint/v1\\n" +
f"{seq}\\n{entry_hash}\\n{prev_seq}\\n{created_at}"``. The signing key is derived
deterministically from ``RONGXIN_SECRET_KEY`` with HKDF-SHA256 (salt ``rongxin/audit``, info
``checkpoint-ed25519/v1``, 32 bytes → the Ed25519 private seed), so every process of a node
signs and checks with the same key and no key file has to be kept. Its ``key_id`` is the first
16 hex digits of SHA-256 over the raw public key. Without a secret key (development and tests
only; production refuses to start without one) a fixed, publicly known development key is used:
such checkpoints prove nothing against someone who can write to the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from rongxin.config import Settings

HASH_VERSION: Final = 1
GENESIS_HASH: Final = "0" * 64
_ENTRY_DOMAIN: Final = b"rongxin/audit-entry/v1\n"
_CHECKPOINT_DOMAIN: Final = b"rongxin/audit-checkpoint/v1\n"
_HKDF_SALT: Final = b"rongxin/audit"
_HKDF_INFO: Final = b"checkpoint-ed25519/v1"
#: used only when RONGXIN_SECRET_KEY is unset (never in production): public, proves nothing
DEVELOPMENT_SECRET: Final = "rongxin-development-audit-key (public; not for production)"  # noqa: S105


class UnknownHashVersion(ValueError):
    """An entry names a serialization version this code does not know."""


@dataclass(frozen=True, slots=True)
class EntryFields:
    """Everything an entry's hash covers."""

    hash_version: int
    occurred_at: datetime
    action: str
    actor_kind: str
    actor_code: str
    user_id: str | None
    uscc: str | None
    items: str  # the stored JSON text
    purpose: str | None
    authorization_id: str | None
    outcome: str
    detail: str
    request_id: str | None
    node_id: str
    prev_hash: str


def format_time(value: datetime) -> str:
    """The canonical timestamp: UTC with microseconds, as both engines store it."""
    if value.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_items(codes: list[str]) -> str:
    """The stored (and hashed) JSON text of an entry's item codes."""
    return json.dumps(codes, ensure_ascii=False, separators=(",", ":"))


def decode_items(text: str) -> list[str]:
    """The item codes of a stored entry (an empty list when the text is not a JSON list)."""
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return [c for c in value if isinstance(c, str)] if isinstance(value, list) else []


def entry_hash(fields: EntryFields) -> str:
    """The hex SHA-256 of one entry in its canonical form (see the module docstring)."""
    if fields.hash_version != HASH_VERSION:
        raise UnknownHashVersion(f"unknown audit hash version {fields.hash_version}")
    document = [
        fields.hash_version,
        format_time(fields.occurred_at),
        fields.action,
        fields.actor_kind,
        fields.actor_code,
        fields.user_id,
        fields.uscc,
        fields.items,
        fields.purpose,
        fields.authorization_id,
        fields.outcome,
        fields.detail,
        fields.request_id,
        fields.node_id,
        fields.prev_hash,
    ]
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(_ENTRY_DOMAIN + text.encode("utf-8")).hexdigest()


def checkpoint_message(*, seq: int, entry_hash: str, prev_seq: int, created_at: datetime) -> bytes:
    """The bytes a checkpoint signature covers."""
    body = f"{seq}\n{entry_hash}\n{prev_seq}\n{format_time(created_at)}"
    return _CHECKPOINT_DOMAIN + body.encode("ascii")


@dataclass(frozen=True, slots=True)
class CheckpointKey:
    """The node's checkpoint signing key (derived from the secret key; never stored)."""

    private: Ed25519PrivateKey
    key_id: str
    public_hex: str
    development: bool

    def sign(self, message: bytes) -> str:
        return self.private.sign(message).hex()

    def verify(self, signature_hex: str, message: bytes) -> bool:
        try:
            signature = bytes.fromhex(signature_hex)
            self.private.public_key().verify(signature, message)
        except (ValueError, InvalidSignature):
            return False
        return True


@lru_cache(maxsize=4)
def _derive(secret: str) -> tuple[Ed25519PrivateKey, str, str]:
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret.encode("utf-8")
    )
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, hashlib.sha256(public).hexdigest()[:16], public.hex()


def checkpoint_key(settings: Settings) -> CheckpointKey:
    """The checkpoint key of this node, from ``RONGXIN_SECRET_KEY`` (see the module docstring)."""
    development = not settings.secret_key
    private, key_id, public_hex = _derive(settings.secret_key or DEVELOPMENT_SECRET)
    return CheckpointKey(
        private=private, key_id=key_id, public_hex=public_hex, development=development
    )
