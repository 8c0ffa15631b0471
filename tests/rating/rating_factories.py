"""Records and runs for the rating tests (importable as ``rating_factories``)."""

from __future__ import annotations

from datetime import date

from record_factories import create_record
from sqlalchemy.orm import Session

from rongxin.catalog import service as catalog_service
from rongxin.config import Settings
from rongxin.rating import batch
from rongxin.rating.indicators import IndicatorSystem
from rongxin.rating.models import RatingRun


def penalty(session: Session, uscc: str, day: str, severity: str = "一般") -> None:
    """An administrative penalty decided on ``day`` (YYYY-MM-DD)."""
    create_record(
        session,
        item_code="admin_penalty",
        uscc=uscc,
        payload={"decision_date": day, "severity": severity, "fine_amount": 5000},
        event_date=date.fromisoformat(day),
    )


def dishonest(
    session: Session, uscc: str, *, removed: str | None, published: str = "2025-05-01"
) -> None:
    """A 失信被执行人 listing; ``removed`` None keeps it in force."""
    create_record(
        session,
        item_code="dishonest_debtor",
        uscc=uscc,
        payload={"publish_date": published, "removed_date": removed},
        event_date=date.fromisoformat(published),
    )


def rate(
    session: Session,
    settings: Settings,
    *,
    as_of: date = date(2026, 9, 30),
    system: IndicatorSystem | None = None,
) -> RatingRun:
    """A full-coverage run over every entity in the test's transaction."""
    return batch.run_rating(
        session,
        catalog=catalog_service.load_catalog(),
        as_of=as_of,
        triggered_by="test",
        settings=settings,
        system=system,
    )
