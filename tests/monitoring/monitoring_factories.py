"""Typed factories for the monitoring tests: crafted access-log traffic and authorizations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from entity_factories import make_uscc
from provider_factories import grant
from sqlalchemy.orm import Session

from rongxin.access.schemas import Purpose
from rongxin.audit import service as audit_service
from rongxin.audit.schemas import AccessEvent, ActorKind, Outcome
from rongxin.config import Settings
from rongxin.consent.evidence import evidence_key
from rongxin.consent.schemas import AuthorizationRead

BANK = "bank-fz"
#: Tuesday 2026-03-03 10:00 China time (02:00 UTC): office hours
T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
PUBLIC_ITEM = "registration"
PRIVATE_ITEM = "tax_payment"
KEY = evidence_key("test-secret-key-for-monitoring")


def firm(n: int) -> str:
    return make_uscc(seed=7000 + n)


def read(
    at: datetime,
    *,
    actor: str = BANK,
    uscc: str | None = None,
    items: list[str] | None = None,
    outcome: Outcome = Outcome.allowed,
    authorization_id: str | None = None,
    action: str = "report.json",
    detail: str = "",
    actor_kind: ActorKind = ActorKind.institution,
) -> AccessEvent:
    """One access of ``actor`` at ``at`` (default: a public report of firm 0)."""
    return AccessEvent(
        action=action,
        actor_kind=actor_kind,
        actor_code=actor,
        uscc=uscc or firm(0),
        items=[PUBLIC_ITEM] if items is None else items,
        purpose=Purpose.pre_loan,
        authorization_id=authorization_id,
        outcome=outcome,
        detail=detail,
        occurred_at=at,
    )


def reads(start: datetime, count: int, *, every: timedelta, **fields: Any) -> list[AccessEvent]:
    """``count`` accesses from ``start``, one every ``every``; ``distinct=True`` reads a
    different enterprise each time."""
    distinct = fields.pop("distinct", False)
    return [
        read(start + i * every, **({"uscc": firm(i)} if distinct else {}), **fields)
        for i in range(count)
    ]


def log(session: Session, settings: Settings, events: list[AccessEvent]) -> list[int]:
    return audit_service.append(session, events, settings=settings)


def active_authorization(
    session: Session,
    *,
    uscc: str,
    institution: str = BANK,
    now: datetime = T0,
    items: list[str] | None = None,
) -> AuthorizationRead:
    """An authorization ``uscc`` granted ``institution`` (requested and approved at ``now``)."""
    return grant(
        session,
        uscc,
        items or [PRIVATE_ITEM],
        institution=institution,
        now=now,
        key=KEY,
        access_mode="view",
        retention_days=365,
    )
