"""Typed factories for the access-log tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from rongxin.access.schemas import Purpose
from rongxin.audit import service
from rongxin.audit.models import AuditCheckpoint, AuditEntry, AuditEntryItem, AuditHead
from rongxin.audit.schemas import AccessEvent, ActorKind, Outcome
from rongxin.config import Settings

USCC_A = "91350102MA2Y000A1X"
USCC_B = "91350102MA2Y000B2X"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def make_event(**overrides: Any) -> AccessEvent:
    """An institution viewing tax and registration data of USCC_A before a loan, with every
    optional field set (so that tests can change each one)."""
    values: dict[str, Any] = {
        "action": "report.view",
        "actor_kind": ActorKind.institution,
        "actor_code": "bank_fz_001",
        "user_id": "u-1001",
        "uscc": USCC_A,
        "items": ["tax_payment", "registration"],
        "purpose": Purpose.pre_loan,
        "authorization_id": "auth-0001",
        "outcome": Outcome.allowed,
        "detail": "authorized sections shown",
        "request_id": "req-0001",
        "occurred_at": T0,
    }
    values.update(overrides)
    return AccessEvent(**values)


def append_events(
    session: Session, count: int, *, settings: Settings, **overrides: Any
) -> list[int]:
    """Append ``count`` events, one per call (so checkpoints fall as they would in use)."""
    seqs: list[int] = []
    for i in range(count):
        seqs += service.append(
            session, [make_event(request_id=f"req-{i:04d}", **overrides)], settings=settings
        )
    return seqs


def clear_audit_tables(engine: Engine) -> None:
    """Remove committed audit rows (tests that commit clean up after themselves)."""
    with Session(engine) as session:
        for table in (AuditEntryItem, AuditCheckpoint, AuditEntry, AuditHead):
            session.execute(delete(table))
        session.commit()


@contextmanager
def committed_audit(engine: Engine) -> Iterator[Engine]:
    clear_audit_tables(engine)
    try:
        yield engine
    finally:
        clear_audit_tables(engine)
