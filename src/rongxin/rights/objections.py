"""Objections (异议, G4; DOMAIN.md §6).

The enterprise objects to one of its records (reason, disputed fields, evidence files) under a
signed credit commitment. The platform accepts or rejects it within its deadline; on acceptance
the record is flagged 异议中 at once — a new version with status ``disputed``, which every report
shows from the next request — and the objection goes to the providing department, which checks
and answers within its deadline:

* ``corrected``: a corrected version replaces the record (through ingestion), flag removed;
* ``confirmed``: the record stands, the flag is removed;
* ``undecidable``: the check result and the objection are both recorded and shown with the
  record (status ``annotated``).

Deadlines are working days (``rongxin.rights.calendar``) from the rule in force when filed
(``rights_rules.yaml``); the whole objection is answered within ``total_days`` calendar days.
An overdue step is escalated by the sweep (``rongxin rights sweep``). Every step is an event;
the enterprise gets a notice at each.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rongxin.access import policy
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.catalog.schemas import Catalog, Item, SharingMode
from rongxin.db.base import utcnow
from rongxin.records import service as records_service
from rongxin.records.schemas import RecordStatus, RecordView
from rongxin.rights import delivery
from rongxin.rights import service as rights_service
from rongxin.rights.calendar import WorkingCalendar
from rongxin.rights.errors import (
    InvalidRightsRequest,
    InvalidTransition,
    ObjectionNotFound,
    RecordNotFound,
)
from rongxin.rights.models import Objection, RepairApplication
from rongxin.rights.rules import RightsRules
from rongxin.rights.schemas import (
    OPEN_OBJECTION,
    SELF_REPORTED_PROVIDER,
    CaseKind,
    CommitmentContext,
    ObjectionAnswer,
    ObjectionCreate,
    ObjectionOutcome,
    ObjectionRead,
    ObjectionStatus,
)

KIND = CaseKind.objection
#: record statuses an objection can be raised against (not one already ended)
OBJECTABLE = (RecordStatus.published, RecordStatus.annotated)


def china_today(at: datetime | None = None) -> date:
    """Deadlines run on China's calendar days (UTC+8)."""
    return ((at or utcnow()) + timedelta(hours=8)).date()


def current_step(row: Objection) -> str | None:
    """The step an open objection waits for: ``accept`` (the platform) or ``provider_answer``."""
    if row.status == ObjectionStatus.submitted.value:
        return "accept"
    if row.status == ObjectionStatus.with_provider.value:
        return "provider_answer"
    return None


def due_date(row: Objection) -> date | None:
    """The deadline of the current step (accept; the provider's answer), if open."""
    if row.status == ObjectionStatus.submitted.value:
        return min(row.accept_due_date, row.final_due_date)
    if row.status == ObjectionStatus.with_provider.value and row.provider_due_date is not None:
        return min(row.provider_due_date, row.final_due_date)
    return None


def escalated(row: Objection) -> bool:
    """Whether the current step has been escalated (each step is escalated once)."""
    step = current_step(row)
    return step is not None and row.escalated_step == step


def open_key(uscc: str, item_code: str, record_key: str) -> str:
    """Set on a case while it is open; a unique index keeps one open case per record."""
    return f"{uscc}|{item_code}|{record_key}"


def insert_case(session: Session, row: Objection | RepairApplication) -> None:
    """Add an open case; a second open case on the same record (even filed at the same moment
    on another connection) is refused by the unique ``open_key``."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise InvalidTransition(
            "a case about this record is already open; follow that one"
        ) from None


def read(row: Objection, today: date) -> ObjectionRead:
    view = ObjectionRead.model_validate(row)
    view.due_date = due_date(row)
    view.overdue = view.due_date is not None and today > view.due_date
    view.step_escalated = escalated(row)
    return view


def objectable_items(catalog: Catalog) -> set[str]:
    """Items whose records an enterprise may object to: stored on the platform, and not its
    own self-reported information (that it changes by reporting again)."""
    return {
        i.code
        for i in catalog.items
        if i.sharing_mode is SharingMode.physical and i.provider != SELF_REPORTED_PROVIDER
    }


def subject_item(catalog: Catalog, item_code: str) -> Item:
    item = next((i for i in catalog.items if i.code == item_code), None)
    if item is None:
        raise InvalidRightsRequest(f"no catalog item {item_code!r}", field="item_code")
    if item.sharing_mode is not SharingMode.physical:
        raise InvalidRightsRequest(
            f"item {item_code} is not stored on the platform ({item.sharing_mode.value}); "
            "raise the objection with its provider",
            field="item_code",
        )
    return item


def current_record(session: Session, *, uscc: str, item: Item | str, record_key: str) -> RecordView:
    """The current version of the record a case is about (any status), or 404."""
    code = item if isinstance(item, str) else item.code
    record = policy.case_record(session, uscc=uscc, item_code=code, record_key=record_key)
    if record is None:
        raise RecordNotFound(
            f"the enterprise has no record {record_key!r} of item {code}", field="record_key"
        )
    return record


def _open_on(session: Session, *, uscc: str, item_code: str, record_key: str) -> Objection | None:
    stmt = select(Objection).where(
        Objection.uscc == uscc,
        Objection.item_code == item_code,
        Objection.record_key == record_key,
        Objection.status.in_([s.value for s in OPEN_OBJECTION]),
    )
    return session.scalars(stmt).first()


def file_objection(
    session: Session,
    *,
    catalog: Catalog,
    rules: RightsRules,
    calendar: WorkingCalendar,
    texts: rights_service.CommitmentTexts,
    principal: Principal,
    body: ObjectionCreate,
    at: datetime | None = None,
) -> ObjectionRead:
    """The enterprise objects to one of its current records."""
    when = at or utcnow()
    today = china_today(when)
    uscc = principal.code
    item = subject_item(catalog, body.item_code)
    if item.provider == SELF_REPORTED_PROVIDER:
        raise InvalidRightsRequest(
            f"item {item.code} is the enterprise's own self-reported information: change it "
            "by reporting it again, not by an objection",
            field="item_code",
        )
    record = current_record(session, uscc=uscc, item=item, record_key=body.record_key)
    if record.status not in OBJECTABLE:
        raise InvalidTransition(
            f"the record is {record.status.value}; an objection is raised against a record "
            "that is published",
            record_status=record.status.value,
        )
    if _open_on(session, uscc=uscc, item_code=item.code, record_key=body.record_key):
        raise InvalidTransition("an objection to this record is already open; follow that one")
    names = {f.name for f in item.fields}
    unknown = sorted(set(body.fields) - names)
    if unknown:
        raise InvalidRightsRequest(
            f"item {item.code} has no field(s) {', '.join(unknown)}", field="fields"
        )
    commitment = rights_service.sign_commitment(
        session,
        texts=texts,
        principal=principal,
        uscc=uscc,
        echo=body.commitment,
        context=CommitmentContext.objection,
        at=when,
    )
    rule = rules.objection_rule(today)
    row = Objection(
        id=rights_service.new_id(),
        uscc=uscc,
        item_code=item.code,
        record_key=body.record_key,
        record_version=record.version,
        provider_code=record.provider_code,
        fields=",".join(sorted(set(body.fields))),
        reason=body.reason,
        commitment_id=commitment.id,
        rule_code=rule.code,
        status=ObjectionStatus.submitted.value,
        open_key=open_key(uscc, item.code, body.record_key),
        filed_at=when,
        filed_by=principal.user_id or principal.code,
        accept_due_date=calendar.add_working_days(today, rule.accept_working_days),
        final_due_date=today + timedelta(days=rule.total_days),
    )
    insert_case(session, row)
    rights_service.step(session, KIND, row, "filed", None, principal, note="", at=when)
    return read(row, today)


def _get(session: Session, objection_id: str) -> Objection:
    row = session.get(Objection, objection_id, with_for_update=True)
    if row is None:
        raise ObjectionNotFound(f"no objection {objection_id}")
    return row


def _expect(row: Objection, *statuses: ObjectionStatus) -> None:
    if row.status not in {s.value for s in statuses}:
        wanted = " or ".join(s.value for s in statuses)
        raise InvalidTransition(
            f"objection {row.id} is {row.status}; this step needs it {wanted}",
            case_status=row.status,
        )


def accept(
    session: Session,
    *,
    objection_id: str,
    principal: Principal,
    rules: RightsRules,
    calendar: WorkingCalendar,
    note: str = "",
    at: datetime | None = None,
) -> ObjectionRead:
    """The platform accepts: the record is flagged 异议中 at once and the objection goes to the
    providing department, whose answer is due in its working days."""
    when = at or utcnow()
    today = china_today(when)
    row = _get(session, objection_id)
    _expect(row, ObjectionStatus.submitted)
    record = current_record(session, uscc=row.uscc, item=row.item_code, record_key=row.record_key)
    flagged = None
    if record.status in OBJECTABLE:
        flagged = records_service.change_status(
            session,
            uscc=row.uscc,
            item_code=row.item_code,
            record_key=row.record_key,
            status=RecordStatus.disputed,
            from_statuses=OBJECTABLE,
        )
    if flagged is None:
        raise InvalidTransition(
            f"the record is {record.status.value} now (no longer published): reject the "
            "objection, saying so",
            record_status=record.status.value,
        )
    row.prior_status = record.status.value
    rule = next(r for r in rules.objection_rules if r.code == row.rule_code)
    row.status = ObjectionStatus.with_provider.value
    row.accepted_at = when
    row.provider_due_date = calendar.add_working_days(today, rule.provider_working_days)
    row.platform_note = note or None
    session.flush()
    rights_service.step(
        session,
        KIND,
        row,
        "accepted",
        ObjectionStatus.submitted.value,
        principal,
        note=note,
        at=when,
    )
    return read(row, today)


def reject(
    session: Session,
    *,
    objection_id: str,
    principal: Principal,
    note: str,
    at: datetime | None = None,
) -> ObjectionRead:
    """The platform does not accept the objection (不予受理), saying why."""
    when = at or utcnow()
    row = _get(session, objection_id)
    _expect(row, ObjectionStatus.submitted)
    row.status, row.closed_at, row.platform_note = ObjectionStatus.rejected.value, when, note
    row.open_key = None
    session.flush()
    rights_service.step(
        session,
        KIND,
        row,
        "rejected",
        ObjectionStatus.submitted.value,
        principal,
        note=note,
        at=when,
    )
    return read(row, china_today(when))


def withdraw(
    session: Session, *, objection_id: str, principal: Principal, at: datetime | None = None
) -> ObjectionRead:
    """The enterprise withdraws its open objection; a flag it caused is removed."""
    when = at or utcnow()
    row = _get(session, objection_id)
    if row.uscc != principal.code:
        raise ObjectionNotFound(f"no objection {objection_id}")
    _expect(row, *OPEN_OBJECTION)
    before = row.status
    if before == ObjectionStatus.with_provider.value:
        _unflag(session, row, _prior(row))
    row.status, row.closed_at = ObjectionStatus.withdrawn.value, when
    row.open_key = None
    session.flush()
    rights_service.step(session, KIND, row, "withdrawn", before, principal, note="", at=when)
    return read(row, china_today(when))


def _prior(row: Objection) -> RecordStatus:
    """The status the record had before the flag (published, or annotated by an earlier
    undecidable objection)."""
    return RecordStatus(row.prior_status or RecordStatus.published.value)


def _unflag(session: Session, row: Objection, status: RecordStatus) -> int | None:
    """End the 异议中 flag — only while the record still carries it: a record repaired or past
    its publicity period meanwhile stays so. Returns the new version, if any."""
    try:
        view = records_service.change_status(
            session,
            uscc=row.uscc,
            item_code=row.item_code,
            record_key=row.record_key,
            status=status,
            from_statuses=(RecordStatus.disputed,),
        )
    except LookupError:
        return None
    return view.version if view is not None else None


def answer(
    session: Session,
    *,
    catalog: Catalog,
    objection_id: str,
    principal: Principal,
    body: ObjectionAnswer,
    origin_node: str,
    at: datetime | None = None,
) -> ObjectionRead:
    """The providing department's answer after its check; closes the objection."""
    when = at or utcnow()
    row = _get(session, objection_id)
    if principal.kind is PrincipalKind.provider and row.provider_code != principal.code:
        raise ObjectionNotFound(f"no objection {objection_id}")
    _expect(row, ObjectionStatus.with_provider)
    if body.outcome is ObjectionOutcome.corrected:
        row.corrected_version = _correct(
            session, catalog=catalog, row=row, corrected=body.corrected, origin_node=origin_node
        )
    elif body.corrected:
        raise InvalidRightsRequest(
            "corrected values are given only with outcome corrected", field="corrected"
        )
    else:
        status = (
            RecordStatus.annotated if body.outcome is ObjectionOutcome.undecidable else _prior(row)
        )
        _unflag(session, row, status)
    row.status, row.outcome = ObjectionStatus.closed.value, body.outcome.value
    row.open_key = None
    row.check_result, row.answered_at, row.closed_at = body.check_result, when, when
    session.flush()
    rights_service.step(
        session,
        KIND,
        row,
        f"answered_{body.outcome.value}",
        ObjectionStatus.with_provider.value,
        principal,
        note=body.check_result,
        at=when,
    )
    return read(row, china_today(when))


def _correct(
    session: Session,
    *,
    catalog: Catalog,
    row: Objection,
    corrected: dict[str, object] | None,
    origin_node: str,
) -> int | None:
    """Deliver the corrected record through ingestion, then end the flag on it."""
    if not corrected:
        raise InvalidRightsRequest(
            "outcome corrected needs the corrected values", field="corrected"
        )
    item = subject_item(catalog, row.item_code)
    keyed = sorted(set(corrected) & set(item.natural_key))
    if keyed:
        raise InvalidRightsRequest(
            f"{', '.join(keyed)} identify the record and cannot be corrected; withdraw the "
            "record and deliver a new one instead",
            field=keyed[0],
        )
    record = current_record(session, uscc=row.uscc, item=item, record_key=row.record_key)
    values = {**record.payload, **corrected}
    delivery.deliver_one(
        session,
        catalog=catalog,
        item=item,
        provider_code=item.provider,
        values=values,
        source_name=f"objection {row.id}",
        origin_node=origin_node,
    )
    return _unflag(session, row, RecordStatus.published)


# ---- reading ----------------------------------------------------------------------------------


def visible(row: Objection, principal: Principal) -> bool:
    """An objection reaches its provider once the platform accepts it."""
    routed = row.status != ObjectionStatus.submitted.value
    return rights_service.may_see_case(
        principal, uscc=row.uscc, provider_code=row.provider_code, routed=routed
    )


def get(session: Session, *, objection_id: str, principal: Principal) -> ObjectionRead:
    row = session.get(Objection, objection_id)
    if row is None or not visible(row, principal):
        raise ObjectionNotFound(f"no objection {objection_id}")
    return read(row, china_today())


def list_objections(
    session: Session,
    *,
    uscc: str | None = None,
    provider_code: str | None = None,
    statuses: Sequence[ObjectionStatus] | None = None,
    limit: int = 100,
    oldest_first: bool = False,
) -> list[ObjectionRead]:
    """Objections, newest first (``oldest_first``: the longest waiting first, as a work list
    needs — a limit then cuts the newest, never the most overdue)."""
    order = Objection.filed_at.asc() if oldest_first else Objection.filed_at.desc()
    stmt = select(Objection).order_by(order, Objection.id).limit(limit)
    if uscc is not None:
        stmt = stmt.where(Objection.uscc == uscc)
    if provider_code is not None:
        stmt = stmt.where(
            Objection.provider_code == provider_code,
            Objection.status != ObjectionStatus.submitted.value,
        )
    if statuses:
        stmt = stmt.where(Objection.status.in_([s.value for s in statuses]))
    today = china_today()
    return [read(r, today) for r in session.scalars(stmt)]


def undecided_notes(session: Session, *, uscc: str) -> dict[tuple[str, str], ObjectionRead]:
    """The latest closed undecidable objection per record of ``uscc``: shown with the record
    (the objection and the check result, 征信业管理条例 art. 25)."""
    stmt = (
        select(Objection)
        .where(
            Objection.uscc == uscc,
            Objection.status == ObjectionStatus.closed.value,
            Objection.outcome == ObjectionOutcome.undecidable.value,
        )
        .order_by(Objection.closed_at)
    )
    today = china_today()
    return {(r.item_code, r.record_key): read(r, today) for r in session.scalars(stmt)}


def escalate_overdue(session: Session, *, today: date, at: datetime | None = None) -> int:
    """Escalate every open objection whose current step is past its deadline — once per step
    (a late acceptance and, later, a late answer are two escalations)."""
    when = at or utcnow()
    stmt = select(Objection).where(Objection.status.in_([s.value for s in OPEN_OBJECTION]))
    count = 0
    for row in session.scalars(stmt):
        due = due_date(row)
        if due is None or today <= due or escalated(row):
            continue
        row.escalated_at, row.escalated_step = when, current_step(row)
        note = f"overdue since {due.isoformat()}"
        rights_service.step(session, KIND, row, "escalated", row.status, None, note=note, at=when)
        count += 1
    session.flush()
    return count
