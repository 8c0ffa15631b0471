"""The signed evidence of an approval: it verifies, and any change is detected."""

from __future__ import annotations

import base64
import json

from consent_factories import FIRM, KEY, T0, create_active, create_request
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from rongxin.consent import evidence, service
from rongxin.consent.models import Authorization


def _row(session: Session, authorization_id: str) -> Authorization:
    row = session.get(Authorization, authorization_id)
    assert row is not None
    return row


def test_approval_evidence_verifies_and_holds_the_terms(session: Session) -> None:
    grant = create_active(session)
    checked = service.verify_evidence(session, authorization_id=grant.id, key=KEY)
    assert checked.verified, checked.reason
    assert checked.alg == "Ed25519"
    assert checked.key_id == KEY.key_id
    record = checked.record
    assert record["id"] == grant.id
    assert record["uscc"] == FIRM
    assert record["items"] == ["social_insurance", "tax_payment"]
    assert record["purpose"] == "pre_loan"
    assert record["risk_notice_sha256"] == grant.risk_notice_sha256
    assert record["decided_by"] == "k-firm"
    # canonical: sorted keys, no spaces; anyone with the public key can check it offline
    assert checked.canonical == json.dumps(
        record, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(checked.public_key))
    public.verify(base64.b64decode(checked.signature), checked.canonical.encode())


def test_tampered_terms_are_detected(session: Session) -> None:
    grant = create_active(session)
    row = _row(session, grant.id)
    row.items = [*row.items, "housing_fund"]
    session.flush()
    checked = service.verify_evidence(session, authorization_id=grant.id, key=KEY)
    assert not checked.verified
    assert "stored terms differ" in checked.reason


def test_tampered_record_or_signature_is_detected(session: Session) -> None:
    grant = create_active(session)
    row = _row(session, grant.id)
    original = row.evidence_canonical
    assert original is not None
    row.evidence_canonical = original.replace('"retention_days":365', '"retention_days":3650')
    ok, reason = evidence.verify(row, KEY)
    assert not ok
    assert "signature does not match" in reason
    row.evidence_canonical = original
    signature = base64.b64decode(row.evidence_signature or "")
    row.evidence_signature = base64.b64encode(bytes([signature[0] ^ 1]) + signature[1:]).decode()
    assert evidence.verify(row, KEY) == (
        False,
        "the signature does not match the signed record (the evidence was altered)",
    )


def test_another_key_does_not_verify(session: Session) -> None:
    grant = create_active(session)
    other = evidence.evidence_key("a-different-secret")
    ok, reason = evidence.verify(_row(session, grant.id), other)
    assert not ok
    assert "this node's key is" in reason


def test_unapproved_request_has_no_evidence(session: Session) -> None:
    req = create_request(session)
    checked = service.verify_evidence(session, authorization_id=req.id, key=KEY)
    assert not checked.verified
    assert checked.record == {}
    assert "never approved" in checked.reason


def test_keys_are_derived_deterministically() -> None:
    again = evidence.evidence_key("test-secret-key-for-consent-evidence")
    assert again.public_key_b64 == KEY.public_key_b64
    assert len(KEY.key_id) == 16
    development = evidence.evidence_key(None)
    assert development.key_id.startswith("dev-")
    assert development.public_key_b64 != KEY.public_key_b64
    assert T0.tzinfo is not None
