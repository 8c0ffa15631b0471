"""Deadlines of open cases: the daily sweep and the operator's deadline dashboard.

``rongxin rights sweep`` (daily from cron, docs/operations.md) ends publication of records past
their maximum period and escalates every objection or repair application past its deadline
(once; the enterprise is told). The dashboard lists open cases, most urgent first.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from rongxin.catalog.schemas import Catalog
from rongxin.db.base import utcnow
from rongxin.rights import objections, repair
from rongxin.rights.calendar import WorkingCalendar
from rongxin.rights.models import Objection, RepairApplication
from rongxin.rights.rules import RightsRules
from rongxin.rights.schemas import (
    OPEN_OBJECTION,
    CaseKind,
    DeadlineRow,
    ObjectionStatus,
    RepairStatus,
    SweepResult,
)

#: what a re-rating after the sweep records as its trigger
SWEEP_REASON: Final = "rights-sweep"


def sweep(
    session: Session,
    *,
    catalog: Catalog,
    rules: RightsRules,
    today: date | None = None,
    at: datetime | None = None,
    rerate: repair.Rerate | None = None,
) -> SweepResult:
    """The daily job. Entities whose records stopped being published are re-rated at once
    through ``rerate`` (up to ``repair.RERATE_LIMIT`` of them; a larger backlog — a node's
    first sweep — is left to the next full rating run, and the result says so)."""
    when = at or utcnow()
    day = today or objections.china_today(when)
    ended, expired = repair.expire_due(session, catalog=catalog, rules=rules, today=day, at=when)
    rerated = 0
    too_many = len(ended) > repair.RERATE_LIMIT
    if rerate is not None and ended and not too_many and rerate(session, ended):
        rerated = len(ended)
    return SweepResult(
        today=day,
        expired_records=expired,
        rerated_entities=rerated,
        full_rating_needed=rerate is not None and too_many,
        escalated_objections=objections.escalate_overdue(session, today=day, at=when),
        escalated_repairs=repair.escalate_overdue(session, today=day, at=when),
    )


def dashboard(
    session: Session, *, calendar: WorkingCalendar, today: date | None = None, limit: int = 500
) -> list[DeadlineRow]:
    """Open objections and repair applications, overdue first, then by deadline."""
    day = today or objections.china_today()
    rows: list[DeadlineRow] = []
    open_objections = (
        select(Objection)
        .where(Objection.status.in_([s.value for s in OPEN_OBJECTION]))
        .order_by(Objection.filed_at, Objection.id)  # the longest waiting first
    )
    for o in session.scalars(open_objections.limit(limit)):
        due = objections.due_date(o)
        if due is None:
            continue
        step = "accept" if o.status == ObjectionStatus.submitted.value else "provider_answer"
        rows.append(
            _row(
                CaseKind.objection,
                o.id,
                o.uscc,
                o.item_code,
                o.provider_code,
                o.status,
                step,
                due,
                o.final_due_date,
                objections.escalated(o),
                calendar,
                day,
            )
        )
    open_repairs = (
        select(RepairApplication)
        .where(RepairApplication.status == RepairStatus.submitted.value)
        .order_by(RepairApplication.review_due_date, RepairApplication.id)
    )
    for r in session.scalars(open_repairs.limit(limit)):
        rows.append(
            _row(
                CaseKind.repair,
                r.id,
                r.uscc,
                r.item_code,
                r.provider_code,
                r.status,
                "review",
                r.review_due_date,
                None,
                r.escalated_at is not None,
                calendar,
                day,
            )
        )
    rows.sort(key=lambda r: (not r.overdue, r.due_date, r.case_id))
    return rows[:limit]


def _row(
    kind: CaseKind,
    case_id: str,
    uscc: str,
    item_code: str,
    provider_code: str,
    status: str,
    step: str,
    due: date,
    final_due: date | None,
    escalated: bool,
    calendar: WorkingCalendar,
    today: date,
) -> DeadlineRow:
    overdue = today > due
    left = (
        -calendar.working_days_between(due, today)
        if overdue
        else calendar.working_days_between(today, due)
    )
    return DeadlineRow(
        case_kind=kind,
        case_id=case_id,
        uscc=uscc,
        item_code=item_code,
        provider_code=provider_code,
        status=status,
        step=step,
        due_date=due,
        final_due_date=final_due,
        working_days_left=left,
        overdue=overdue,
        escalated=escalated,
    )
