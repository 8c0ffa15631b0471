"""Credit repair (信用修复, G4; DOMAIN.md §5).

A record covered by a publicity rule (``rights_rules.yaml``: administrative penalties) is
published from its decision date until the maximum period of its tier, when it stops on its own
(:func:`expire_due`, run daily by ``rongxin rights sweep``). Once the minimum period has passed
the enterprise may apply for early repair — evidence of correction and a signed credit
commitment; never before. The operator or the providing department reviews within its working
days; on approval the record is ``repaired``: no longer published or shared (终止公示、停止共享),
so reports, verification and the platform's rating stop using it, batch push tells subscribers
to withdraw it, and the entity is re-rated at once. The enterprise still sees its own history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Final

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from rongxin.access import policy
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.db.base import utcnow
from rongxin.rating import batch as rating_batch
from rongxin.records import service as records_service
from rongxin.records.schemas import RecordStatus, RecordView
from rongxin.rights import service as rights_service
from rongxin.rights.calendar import WorkingCalendar
from rongxin.rights.errors import (
    InvalidRightsRequest,
    InvalidTransition,
    NotYetRepairable,
    RepairNotFound,
)
from rongxin.rights.models import RepairApplication
from rongxin.rights.objections import (
    china_today,
    current_record,
    insert_case,
    open_key,
    subject_item,
)
from rongxin.rights.rules import RightsRules
from rongxin.rights.schemas import (
    CaseKind,
    CommitmentContext,
    PublicityRead,
    RepairCreate,
    RepairRead,
    RepairReview,
    RepairStatus,
)

KIND = CaseKind.repair
#: called with the session and the entities whose records stopped being published; answers
#: whether they were re-rated (not when the node has no full rating run yet)
Rerate = Callable[[Session, Sequence[str]], bool]
#: most entities re-rated at once after the sweep; a larger backlog waits for the next full run
RERATE_LIMIT: Final = 10_000
REPAIRABLE = (RecordStatus.published, RecordStatus.annotated)


def rerate_hook(catalog: Catalog, settings: Settings, reason: str) -> Rerate:
    """Re-rating of entities whose records stopped being published (an approved repair, the
    end of publication), when the platform rates at all (it has a full run); ``reason`` is
    recorded as what triggered the run."""

    def rerate(session: Session, usccs: Sequence[str]) -> bool:
        run = rating_batch.rerate(
            session,
            catalog=catalog,
            settings=settings,
            usccs=list(usccs),
            as_of=china_today(),
            triggered_by=reason[:64],
        )
        return run is not None

    return rerate


def publicity(rules: RightsRules, record: RecordView, today: date) -> PublicityRead | None:
    terms = rules.publicity(record.item_code, record.payload)
    if terms is None:
        return None
    return PublicityRead(
        item_code=record.item_code,
        record_key=record.record_key,
        rule_code=terms.rule_code,
        rule_title=terms.rule_title,
        tier=terms.tier,
        decision_date=terms.decision_date,
        repairable_from=terms.repairable_from,
        published_until=terms.published_until,
        repairable_now=terms.repairable(today),
        ended=terms.ended(today),
    )


def read(row: RepairApplication, today: date) -> RepairRead:
    view = RepairRead.model_validate(row)
    view.overdue = row.status == RepairStatus.submitted.value and today > row.review_due_date
    return view


def apply(
    session: Session,
    *,
    catalog: Catalog,
    rules: RightsRules,
    calendar: WorkingCalendar,
    texts: rights_service.CommitmentTexts,
    principal: Principal,
    body: RepairCreate,
    at: datetime | None = None,
) -> RepairRead:
    """The enterprise applies for early repair of one of its records."""
    when = at or utcnow()
    today = china_today(when)
    uscc = principal.code
    item = subject_item(catalog, body.item_code)
    if item.code not in rules.repairable_items():
        raise InvalidRightsRequest(
            f"records of item {item.code} have no publicity period to repair (rules cover: "
            f"{', '.join(sorted(rules.repairable_items()))})",
            field="item_code",
        )
    record = current_record(session, uscc=uscc, item=item, record_key=body.record_key)
    if record.status not in REPAIRABLE:
        raise InvalidTransition(
            f"the record is {record.status.value}; only a published record is repaired",
            record_status=record.status.value,
        )
    terms = publicity(rules, record, today)
    if terms is None:
        raise InvalidRightsRequest(
            "the record has no decision date or tier the repair rules know", field="record_key"
        )
    if terms.ended:
        raise InvalidTransition(
            f"publication ended on {terms.published_until.isoformat()}; nothing to repair"
        )
    if not terms.repairable_now:
        raise NotYetRepairable(
            f"this {terms.tier} record (decided {terms.decision_date.isoformat()}, "
            f"{terms.rule_title}) is repairable from {terms.repairable_from.isoformat()}; "
            "apply then",
            repairable_from=terms.repairable_from.isoformat(),
        )
    commitment = rights_service.sign_commitment(
        session,
        texts=texts,
        principal=principal,
        uscc=uscc,
        echo=body.commitment,
        context=CommitmentContext.repair,
        at=when,
    )
    row = RepairApplication(
        id=rights_service.new_id(),
        uscc=uscc,
        item_code=item.code,
        record_key=body.record_key,
        record_version=record.version,
        provider_code=record.provider_code,
        rule_code=terms.rule_code,
        tier=terms.tier,
        decision_date=terms.decision_date,
        repairable_from=terms.repairable_from,
        published_until=terms.published_until,
        correction=body.correction,
        commitment_id=commitment.id,
        status=RepairStatus.submitted.value,
        open_key=open_key(uscc, item.code, body.record_key),
        filed_at=when,
        filed_by=principal.user_id or principal.code,
        review_due_date=calendar.add_working_days(today, rules.repair.review_working_days),
    )
    insert_case(session, row)
    rights_service.step(session, KIND, row, "filed", None, principal, note="", at=when)
    return read(row, today)


def _get(session: Session, application_id: str) -> RepairApplication:
    row = session.get(RepairApplication, application_id, with_for_update=True)
    if row is None:
        raise RepairNotFound(f"no repair application {application_id}")
    return row


def review(
    session: Session,
    *,
    application_id: str,
    principal: Principal,
    body: RepairReview,
    rules: RightsRules,
    rerate: Rerate | None = None,
    at: datetime | None = None,
) -> RepairRead:
    """The operator or the providing department approves or rejects the application. Approval
    checks the record again as it is now (still published, still past its minimum period)."""
    when = at or utcnow()
    row = _get(session, application_id)
    if principal.kind is PrincipalKind.provider and row.provider_code != principal.code:
        raise RepairNotFound(f"no repair application {application_id}")
    if row.status != RepairStatus.submitted.value:
        raise InvalidTransition(f"application {row.id} is {row.status}; it was decided already")
    if body.approve:
        today = china_today(when)
        row.repaired_version = _repair_record(session, row=row, rules=rules, today=today)
        row.status = RepairStatus.approved.value
    else:
        row.status = RepairStatus.rejected.value
    row.open_key = None
    row.reviewed_at, row.review_note = when, body.note
    row.reviewer_kind, row.reviewer_code = rights_service.actor_of(principal)
    session.flush()
    action = "approved" if body.approve else "rejected"
    rights_service.step(
        session, KIND, row, action, RepairStatus.submitted.value, principal, note=body.note, at=when
    )
    if body.approve and rerate is not None:
        rerate(session, [row.uscc])
    return read(row, china_today(when))


def _repair_record(
    session: Session, *, row: RepairApplication, rules: RightsRules, today: date
) -> int:
    """End publication of the application's record; refuses (409) when the record changed so
    that it may not be repaired now."""
    record = current_record(session, uscc=row.uscc, item=row.item_code, record_key=row.record_key)
    terms = publicity(rules, record, today)
    if record.status not in REPAIRABLE or terms is None or terms.ended:
        raise InvalidTransition(
            f"the record is {record.status.value} now; reject the application, saying so",
            record_status=record.status.value,
        )
    if not terms.repairable_now:
        raise NotYetRepairable(
            f"the record as it is now (tier {terms.tier}) is repairable from "
            f"{terms.repairable_from.isoformat()}",
            repairable_from=terms.repairable_from.isoformat(),
        )
    view = records_service.change_status(
        session,
        uscc=row.uscc,
        item_code=row.item_code,
        record_key=row.record_key,
        status=RecordStatus.repaired,
        expected_version=record.version,
        from_statuses=REPAIRABLE,
    )
    if view is None:  # pragma: no cover - checked just above, in the same transaction
        raise InvalidTransition("the record cannot be repaired now")
    return view.version


def withdraw(
    session: Session, *, application_id: str, principal: Principal, at: datetime | None = None
) -> RepairRead:
    when = at or utcnow()
    row = _get(session, application_id)
    if row.uscc != principal.code:
        raise RepairNotFound(f"no repair application {application_id}")
    if row.status != RepairStatus.submitted.value:
        raise InvalidTransition(f"application {row.id} is {row.status}; it was decided already")
    row.status, row.open_key = RepairStatus.withdrawn.value, None
    session.flush()
    rights_service.step(
        session, KIND, row, "withdrawn", RepairStatus.submitted.value, principal, note="", at=when
    )
    return read(row, china_today(when))


def visible(row: RepairApplication, principal: Principal) -> bool:
    """The providing department reviews applications about its records from the start."""
    return rights_service.may_see_case(
        principal, uscc=row.uscc, provider_code=row.provider_code, routed=True
    )


def get(session: Session, *, application_id: str, principal: Principal) -> RepairRead:
    row = session.get(RepairApplication, application_id)
    if row is None or not visible(row, principal):
        raise RepairNotFound(f"no repair application {application_id}")
    return read(row, china_today())


def list_applications(
    session: Session,
    *,
    uscc: str | None = None,
    provider_code: str | None = None,
    statuses: list[RepairStatus] | None = None,
    limit: int = 100,
) -> list[RepairRead]:
    stmt = select(RepairApplication).order_by(RepairApplication.filed_at.desc()).limit(limit)
    if uscc is not None:
        stmt = stmt.where(RepairApplication.uscc == uscc)
    if provider_code is not None:
        stmt = stmt.where(RepairApplication.provider_code == provider_code)
    if statuses:
        stmt = stmt.where(RepairApplication.status.in_([s.value for s in statuses]))
    today = china_today()
    return [read(r, today) for r in session.scalars(stmt)]


def escalate_overdue(session: Session, *, today: date, at: datetime | None = None) -> int:
    when = at or utcnow()
    stmt = select(RepairApplication).where(
        RepairApplication.status == RepairStatus.submitted.value,
        RepairApplication.escalated_at.is_(None),
        RepairApplication.review_due_date < today,
    )
    count = 0
    for row in session.scalars(stmt):
        row.escalated_at = when
        note = f"review overdue since {row.review_due_date.isoformat()}"
        rights_service.step(session, KIND, row, "escalated", row.status, None, note=note, at=when)
        count += 1
    session.flush()
    return count


# ---- the end of publication at the maximum ---------------------------------------------------


def publication_ends(rules: RightsRules, frame: pl.DataFrame, item_code: str) -> pl.Series:
    """Each record's first unpublished day (column-wise ``RightsRules.publicity``): the rule in
    force on its decision date, the tier's maximum (never below a special domain's minimum)."""
    candidates = sorted(
        (r for r in rules.publicity_rules if item_code in r.items), key=lambda r: r.effective_date
    )
    fields = candidates[0].items[item_code]
    decided = pl.col(f"f_{fields.decision_date}").str.slice(0, 10).str.to_date(strict=False)
    months: pl.Expr = pl.lit(None, pl.Int32)
    for index, rule in enumerate(candidates):
        names = rule.items[item_code]
        tier = pl.col(f"f_{names.tier}")
        domain = pl.col(f"f_{names.domain}") if names.domain else pl.lit(None, pl.String)
        minimum = tier.replace_strict(
            {t: p.min_months for t, p in rule.tiers.items()}, default=None, return_dtype=pl.Int32
        )
        domain_min = domain.replace_strict(
            {d: m.min_months for d, m in rule.special_domains.items()},
            default=0,
            return_dtype=pl.Int32,
        )
        maximum = tier.replace_strict(
            {t: p.max_months for t, p in rule.tiers.items()}, default=None, return_dtype=pl.Int32
        )
        rule_months = pl.max_horizontal(maximum, pl.max_horizontal(minimum, domain_min))
        rule_months = pl.when(maximum.is_not_null()).then(rule_months)
        later = candidates[index + 1].effective_date if index + 1 < len(candidates) else None
        applies = decided >= pl.lit(rule.effective_date) if index else pl.lit(True)
        if later is not None:
            applies = applies & (decided < pl.lit(later))
        months = pl.when(applies).then(rule_months).otherwise(months)
    ends = decided.dt.offset_by(pl.format("{}mo", months))
    return frame.select(pl.when(months.is_not_null()).then(ends).alias("ends"))["ends"]


def publicity_frame(
    session: Session, *, catalog: Catalog, rules: RightsRules, item_code: str
) -> pl.DataFrame:
    """Every published record of ``item_code`` with the fields its publicity rules read
    (``f_<name>``) and its first unpublished day (``ends``), column-wise."""
    fields = rules.publicity_fields(item_code)
    item = subject_item(catalog, item_code)
    frame = policy.publicity_records(session, items=[item], fields=fields)
    return frame.with_columns(publication_ends(rules, frame, item_code).alias("ends"))


def expire_due(
    session: Session,
    *,
    catalog: Catalog,
    rules: RightsRules,
    today: date,
    at: datetime | None = None,
) -> tuple[list[str], int]:
    """Stop publishing every record whose maximum publicity period has ended (status
    ``expired``, a new version, so subscribers withdraw it); the enterprise is told. Returns the
    entities whose records ended (each once) and how many records ended."""
    when = at or utcnow()
    ended: set[str] = set()
    count = 0
    for item_code in sorted(rules.repairable_items()):
        frame = publicity_frame(session, catalog=catalog, rules=rules, item_code=item_code)
        if frame.is_empty():
            continue
        due = frame.filter(pl.col("ends") <= pl.lit(today))
        changed = records_service.change_status_many(
            session, item_code=item_code, keys=due, status=RecordStatus.expired
        )
        rights_service.notify_many(
            session,
            usccs=changed["uscc"],
            kind=KIND,
            case_id=item_code,
            action="publication_ended",
            notes=changed["record_key"].str.replace_all("\x1f", " / ", literal=True),
            at=when,
        )
        ended.update(changed["uscc"].to_list())
        count += changed.height
    return sorted(ended), count
