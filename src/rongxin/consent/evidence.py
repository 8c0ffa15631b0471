"""Evidence of an approval: the approved terms as canonical JSON, signed with Ed25519.

The signing key is derived from ``Settings.secret_key`` with HKDF-SHA256 (its own ``info``, so
it shares nothing with the session-cookie key); anyone holding the public key
(``GET /api/v1/consent/evidence-key``) can check a record without trusting the database.
Without a secret key (development and tests only; production refuses to start without one) a
fixed development key is used and its key id says so.

:func:`verify` checks two things: that the stored canonical text is still exactly what the
authorization's columns say (a changed column is detected) and that the signature over that
text is valid for this node's key (a changed text or signature is detected).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from rongxin.consent.models import Authorization

ALG: Final = "Ed25519"
RECORD_TYPE: Final = "rongxin.consent.authorization"
RECORD_SCHEMA: Final = 1
_HKDF_SALT: Final = b"rongxin/consent"
_HKDF_INFO: Final = b"rongxin/consent/evidence-signing-key/v1"
_DEVELOPMENT_SECRET: Final = "rongxin-development-only: not for production"  # noqa: S105


@dataclass(frozen=True, slots=True)
class EvidenceKey:
    """This node's evidence-signing key pair."""

    private_key: Ed25519PrivateKey
    public_key: Ed25519PublicKey
    key_id: str  # first 16 hex digits of the public key's SHA-256 ("dev-…" without a secret)
    public_key_b64: str

    def sign(self, canonical: str) -> str:
        return base64.b64encode(self.private_key.sign(canonical.encode("utf-8"))).decode()

    def verifies(self, canonical: str, signature_b64: str) -> bool:
        try:
            signature = base64.b64decode(signature_b64, validate=True)
            self.public_key.verify(signature, canonical.encode("utf-8"))
        except (InvalidSignature, ValueError):
            return False
        return True


@cache
def evidence_key(secret_key: str | None) -> EvidenceKey:
    """The key pair derived from ``secret_key`` (HKDF-SHA256 → Ed25519 seed)."""
    secret = secret_key or _DEVELOPMENT_SECRET
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret.encode("utf-8")
    )
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key()
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()[:16]
    return EvidenceKey(
        private_key=private,
        public_key=public,
        key_id=digest if secret_key else f"dev-{digest[:12]}",
        public_key_b64=base64.b64encode(raw).decode(),
    )


def canonical_json(record: dict[str, Any]) -> str:
    """Sorted keys, no insignificant whitespace, UTF-8 characters as themselves."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _ts(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def terms_record(row: Authorization) -> dict[str, Any]:
    """What the enterprise approved, from the authorization's columns."""
    return {
        "type": RECORD_TYPE,
        "schema": RECORD_SCHEMA,
        "id": row.id,
        "version": row.version,
        "supersedes_id": row.supersedes_id,
        "uscc": row.uscc,
        "institution_code": row.institution_code,
        "loan_application_ref": row.loan_application_ref,
        "purpose": row.purpose,
        "template_version": row.template_version,
        "items": sorted(row.items),
        "access_mode": row.access_mode,
        "fetch_frequency": row.fetch_frequency,
        "data_from_date": row.data_from_date.isoformat(),
        "data_to_date": row.data_to_date.isoformat(),
        "retention_days": row.retention_days,
        "valid_from": _ts(row.valid_from),
        "valid_until": _ts(row.valid_until),
        "reconfirm_days": row.reconfirm_days,
        "requested_by": row.requested_by,
        "requested_at": _ts(row.requested_at),
        "decided_by": row.decided_by,
        "decided_at": _ts(row.decided_at),
        "approval_channel": row.approval_channel,
        "risk_notice_version": row.risk_notice_version,
        "risk_notice_sha256": row.risk_notice_sha256,
    }


def seal(row: Authorization, key: EvidenceKey) -> None:
    """Write the canonical record of ``row``'s terms and its signature onto ``row``."""
    canonical = canonical_json(terms_record(row))
    row.evidence_canonical = canonical
    row.evidence_alg = ALG
    row.evidence_key_id = key.key_id
    row.evidence_signature = key.sign(canonical)


def verify(row: Authorization, key: EvidenceKey) -> tuple[bool, str]:
    """Whether ``row``'s evidence is intact, and why not."""
    if row.evidence_canonical is None or row.evidence_signature is None:
        return False, "no evidence: the authorization was never approved"
    if row.evidence_alg != ALG:
        return False, f"unknown signature algorithm {row.evidence_alg!r}"
    if row.evidence_key_id != key.key_id:
        return False, (
            f"signed with key {row.evidence_key_id}, but this node's key is {key.key_id} "
            "(was RONGXIN_SECRET_KEY changed?)"
        )
    if not key.verifies(row.evidence_canonical, row.evidence_signature):
        return False, "the signature does not match the signed record (the evidence was altered)"
    if canonical_json(terms_record(row)) != row.evidence_canonical:
        return False, "the authorization's stored terms differ from the signed record"
    return True, "the signature is valid and the stored terms match the signed record"


def parse_record(canonical: str) -> dict[str, Any]:
    """The signed record as a mapping (empty when there is none or it is not JSON)."""
    if not canonical:
        return {}
    try:
        record = json.loads(canonical)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}
