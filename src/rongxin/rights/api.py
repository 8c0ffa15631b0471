"""Rights routes under /api/v1/rights (G3, G4, S3).

- the enterprise reads the credit commitment, signs it with self-reported information,
  objections and repair applications, attaches evidence, follows its cases and notices, and sees
  each record's publicity terms; its own full report is ``GET /api/v1/reports/{uscc}`` with
  purpose ``self_query`` (JSON, HTML or PDF) and who read its data ``GET /api/v1/audit/entries``;
- the platform operator accepts or rejects objections, reviews repairs, records broken
  commitments, sees every deadline and runs the sweep; regulators read;
- the providing department sees the objections routed to it and answers them, and reviews repair
  applications of its records.

Another party's case answers 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, File, Query, Response, UploadFile, status

from rongxin.access.deps import EnterprisePrincipal, OperatorPrincipal, ProviderPrincipal
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.audit import writer as audit_writer
from rongxin.deps import CatalogDep, GroupCommitDep, SessionDep, SettingsDep
from rongxin.rights import deadlines, evidence, objections, repair, self_reported
from rongxin.rights import service as rights_service
from rongxin.rights.deps import (
    CalendarDep,
    CaseViewer,
    CommitmentsDep,
    RepairReviewer,
    RightsStaff,
    RulesDep,
)
from rongxin.rights.errors import InvalidRightsRequest, InvalidTransition, RepairNotFound
from rongxin.rights.schemas import (
    OPEN_OBJECTION,
    AttachmentRead,
    CaseKind,
    CommitmentRead,
    CommitmentText,
    DeadlineRow,
    NoteBody,
    NoticeRead,
    ObjectionAnswer,
    ObjectionCreate,
    ObjectionDetail,
    ObjectionRead,
    ObjectionStatus,
    PublicityRead,
    RepairCreate,
    RepairDetail,
    RepairRead,
    RepairReview,
    RepairStatus,
    SelfReportCreate,
    SelfReportResult,
    SweepResult,
)

router = APIRouter(prefix="/rights", tags=["rights"])

Upload = Annotated[UploadFile, File(description="An evidence file (PDF, image, Office, text).")]


def _scope(principal: Principal) -> tuple[str | None, str | None]:
    """(uscc, provider_code) the caller is limited to; (None, None) for staff."""
    if principal.kind is PrincipalKind.enterprise:
        return principal.code, None
    if principal.kind is PrincipalKind.provider:
        return None, principal.code
    return None, None


# ---- the commitment, notices, publicity ---------------------------------------------------


@router.get("/commitment", response_model=CommitmentText)
def get_commitment(texts: CommitmentsDep) -> CommitmentText:
    """The credit commitment (信用承诺书) in force, with its sha256 to echo when signing."""
    return texts.in_force(objections.china_today())


@router.get("/commitments", response_model=list[CommitmentRead])
def list_commitments(
    session: SessionDep,
    principal: CaseViewer,
    uscc: Annotated[str | None, Query(max_length=18, description="Staff: one enterprise.")] = None,
) -> list[CommitmentRead]:
    """The commitments an enterprise signed (its own; staff name one)."""
    own, provider = _scope(principal)
    if provider is not None:
        raise Forbidden("commitments are for the enterprise itself and staff")
    target = own or uscc
    if target is None:
        raise InvalidRightsRequest("name the enterprise (uscc=…)", field="uscc")
    return rights_service.commitments(session, uscc=target)


@router.post("/commitments/{commitment_id}/broken", response_model=CommitmentRead)
def record_broken_commitment(
    commitment_id: str, body: NoteBody, session: SessionDep, principal: OperatorPrincipal
) -> CommitmentRead:
    """Record that the enterprise broke this commitment (违诺); its reports say so."""
    return rights_service.break_commitment(
        session, commitment_id=commitment_id, principal=principal, note=body.note
    )


@router.get("/notices", response_model=list[NoticeRead])
def list_notices(
    session: SessionDep,
    principal: EnterprisePrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[NoticeRead]:
    """Notices about the enterprise's cases, newest first."""
    return rights_service.notices(session, uscc=principal.code, limit=limit)


@router.post("/notices/read", status_code=status.HTTP_204_NO_CONTENT)
def read_notices(session: SessionDep, principal: EnterprisePrincipal) -> Response:
    """Mark every notice read."""
    rights_service.mark_notices_read(session, uscc=principal.code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/publicity", response_model=PublicityRead)
def get_publicity(
    session: SessionDep,
    catalog: CatalogDep,
    rules: RulesDep,
    principal: EnterprisePrincipal,
    item_code: Annotated[str, Query(max_length=64)],
    record_key: Annotated[str, Query(max_length=512)],
) -> PublicityRead:
    """One of the enterprise's records: the rule, tier, repairable-from date and the end of
    publication (DOMAIN.md §5)."""
    item = objections.subject_item(catalog, item_code)
    record = objections.current_record(
        session, uscc=principal.code, item=item, record_key=record_key
    )
    terms = repair.publicity(rules, record, objections.china_today())
    if terms is None:
        raise RepairNotFound(f"item {item_code} has no publicity period the repair rules cover")
    return terms


# ---- self-reported information ---------------------------------------------------------------


@router.post("/self-reports", response_model=SelfReportResult, status_code=status.HTTP_201_CREATED)
def submit_self_report(
    body: SelfReportCreate,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    texts: CommitmentsDep,
    principal: EnterprisePrincipal,
) -> SelfReportResult:
    """Add (or update) one self-reported record under a signed credit commitment."""
    return self_reported.submit(
        session,
        catalog=catalog,
        texts=texts,
        principal=principal,
        body=body,
        origin_node=settings.node_id,
    )


@router.post(
    "/self-reports/{item_code}/attachments",
    response_model=AttachmentRead,
    status_code=status.HTTP_201_CREATED,
)
async def attach_to_self_report(
    item_code: str,
    record_key: Annotated[str, Query(max_length=512)],
    file: Upload,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    principal: EnterprisePrincipal,
) -> AttachmentRead:
    """Attach a file (contract, certificate …) to one of the enterprise's self-reported records."""
    if item_code not in {i.code for i in self_reported.self_reported_items(catalog)}:
        raise Forbidden(f"{item_code} is not a self-reported item")
    item = objections.subject_item(catalog, item_code)
    objections.current_record(session, uscc=principal.code, item=item, record_key=record_key)
    return await _attach(
        session,
        settings=settings,
        uscc=principal.code,
        owner_kind=self_reported.OWNER_KIND,
        owner_id=self_reported.owner_id(item_code, record_key),
        file=file,
    )


async def _attach(
    session: SessionDep,
    *,
    settings: SettingsDep,
    uscc: str,
    owner_kind: str,
    owner_id: str,
    file: UploadFile,
    closed_as: str | None = None,
) -> AttachmentRead:
    """Store one uploaded evidence file; ``closed_as``: the status of a case that is decided
    (it takes no more files)."""
    if closed_as is not None:
        raise InvalidTransition(f"{owner_kind} {owner_id} is {closed_as}; it takes no more files")
    content = await file.read(settings.rights_attachment_max_bytes + 1)
    return rights_service.add_attachment(
        session,
        uscc=uscc,
        owner_kind=owner_kind,
        owner_id=owner_id,
        filename=file.filename or "",
        media_type=file.content_type or "",
        content=content,
        max_bytes=settings.rights_attachment_max_bytes,
    )


# ---- objections ----------------------------------------------------------------------------


@router.post("/objections", response_model=ObjectionRead, status_code=status.HTTP_201_CREATED)
def file_objection(
    body: ObjectionCreate,
    session: SessionDep,
    catalog: CatalogDep,
    rules: RulesDep,
    calendar: CalendarDep,
    texts: CommitmentsDep,
    principal: EnterprisePrincipal,
) -> ObjectionRead:
    """Object to one of the enterprise's records (异议申请)."""
    return objections.file_objection(
        session,
        catalog=catalog,
        rules=rules,
        calendar=calendar,
        texts=texts,
        principal=principal,
        body=body,
    )


@router.get("/objections", response_model=list[ObjectionRead])
def list_objections(
    session: SessionDep,
    principal: CaseViewer,
    status_: Annotated[
        list[ObjectionStatus] | None, Query(alias="status", description="repeatable")
    ] = None,
    uscc: Annotated[str | None, Query(max_length=18, description="Staff: one enterprise.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ObjectionRead]:
    """The enterprise's objections; a provider's inbox (routed to it); staff: all."""
    own, provider = _scope(principal)
    return objections.list_objections(
        session, uscc=own or uscc, provider_code=provider, statuses=status_, limit=limit
    )


@router.get("/objections/{objection_id}", response_model=ObjectionDetail)
def get_objection(objection_id: str, session: SessionDep, principal: CaseViewer) -> ObjectionDetail:
    """One objection with its full history and evidence files."""
    view = objections.get(session, objection_id=objection_id, principal=principal)
    found = rights_service.trail(session, kind=CaseKind.objection, case_id=view.id)
    return ObjectionDetail(objection=view, events=found.events, attachments=found.attachments)


@router.post(
    "/objections/{objection_id}/attachments", response_model=AttachmentRead, status_code=201
)
async def attach_to_objection(
    objection_id: str,
    file: Upload,
    session: SessionDep,
    settings: SettingsDep,
    principal: EnterprisePrincipal,
) -> AttachmentRead:
    """Attach an evidence file to the enterprise's objection."""
    view = objections.get(session, objection_id=objection_id, principal=principal)
    return await _attach(
        session,
        settings=settings,
        uscc=view.uscc,
        owner_kind=CaseKind.objection.value,
        owner_id=view.id,
        file=file,
        closed_as=None if view.status in OPEN_OBJECTION else view.status.value,
    )


@router.post("/objections/{objection_id}/accept", response_model=ObjectionRead)
def accept_objection(
    objection_id: str,
    session: SessionDep,
    rules: RulesDep,
    calendar: CalendarDep,
    principal: OperatorPrincipal,
    body: Annotated[NoteBody | None, Body()] = None,
) -> ObjectionRead:
    """Accept: the record is flagged 异议中 at once and routed to its provider."""
    return objections.accept(
        session,
        objection_id=objection_id,
        principal=principal,
        rules=rules,
        calendar=calendar,
        note=body.note if body else "",
    )


@router.post("/objections/{objection_id}/reject", response_model=ObjectionRead)
def reject_objection(
    objection_id: str, body: NoteBody, session: SessionDep, principal: OperatorPrincipal
) -> ObjectionRead:
    """Do not accept the objection (不予受理), saying why."""
    return objections.reject(
        session, objection_id=objection_id, principal=principal, note=body.note
    )


@router.post("/objections/{objection_id}/withdraw", response_model=ObjectionRead)
def withdraw_objection(
    objection_id: str, session: SessionDep, principal: EnterprisePrincipal
) -> ObjectionRead:
    """The enterprise withdraws its open objection."""
    return objections.withdraw(session, objection_id=objection_id, principal=principal)


@router.post("/objections/{objection_id}/answer", response_model=ObjectionRead)
def answer_objection(
    objection_id: str,
    body: ObjectionAnswer,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    principal: ProviderPrincipal,
) -> ObjectionRead:
    """The providing department's answer after its check: corrected, confirmed or
    undecidable. Closes the objection."""
    return objections.answer(
        session,
        catalog=catalog,
        objection_id=objection_id,
        principal=principal,
        body=body,
        origin_node=settings.node_id,
    )


# ---- credit repair ----------------------------------------------------------------------------


@router.post("/repairs", response_model=RepairRead, status_code=status.HTTP_201_CREATED)
def apply_for_repair(
    body: RepairCreate,
    session: SessionDep,
    catalog: CatalogDep,
    rules: RulesDep,
    calendar: CalendarDep,
    texts: CommitmentsDep,
    principal: EnterprisePrincipal,
) -> RepairRead:
    """Apply for early repair of a record once its minimum publicity period has passed."""
    return repair.apply(
        session,
        catalog=catalog,
        rules=rules,
        calendar=calendar,
        texts=texts,
        principal=principal,
        body=body,
    )


@router.get("/repairs", response_model=list[RepairRead])
def list_repairs(
    session: SessionDep,
    principal: CaseViewer,
    status_: Annotated[
        list[RepairStatus] | None, Query(alias="status", description="repeatable")
    ] = None,
    uscc: Annotated[str | None, Query(max_length=18, description="Staff: one enterprise.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RepairRead]:
    """The enterprise's applications; a provider's (its records); staff: all."""
    own, provider = _scope(principal)
    return repair.list_applications(
        session, uscc=own or uscc, provider_code=provider, statuses=status_, limit=limit
    )


@router.get("/repairs/{application_id}", response_model=RepairDetail)
def get_repair(application_id: str, session: SessionDep, principal: CaseViewer) -> RepairDetail:
    """One application with its history and evidence files."""
    view = repair.get(session, application_id=application_id, principal=principal)
    found = rights_service.trail(session, kind=CaseKind.repair, case_id=view.id)
    return RepairDetail(application=view, events=found.events, attachments=found.attachments)


@router.post(
    "/repairs/{application_id}/attachments", response_model=AttachmentRead, status_code=201
)
async def attach_to_repair(
    application_id: str,
    file: Upload,
    session: SessionDep,
    settings: SettingsDep,
    principal: EnterprisePrincipal,
) -> AttachmentRead:
    """Attach evidence of correction to the enterprise's application."""
    view = repair.get(session, application_id=application_id, principal=principal)
    return await _attach(
        session,
        settings=settings,
        uscc=view.uscc,
        owner_kind=CaseKind.repair.value,
        owner_id=view.id,
        file=file,
        closed_as=None if view.status is RepairStatus.submitted else view.status.value,
    )


@router.post("/repairs/{application_id}/review", response_model=RepairRead)
def review_repair(
    application_id: str,
    body: RepairReview,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    rules: RulesDep,
    principal: RepairReviewer,
) -> RepairRead:
    """Approve (the record stops being published and shared; the entity is re-rated) or
    reject. For the operator or the record's providing department."""

    return repair.review(
        session,
        application_id=application_id,
        principal=principal,
        body=body,
        rules=rules,
        rerate=repair.rerate_hook(catalog, settings, f"repair:{application_id}"),
    )


@router.post("/repairs/{application_id}/withdraw", response_model=RepairRead)
def withdraw_repair(
    application_id: str, session: SessionDep, principal: EnterprisePrincipal
) -> RepairRead:
    """The enterprise withdraws its application while it is under review."""
    return repair.withdraw(session, application_id=application_id, principal=principal)


# ---- evidence files, deadlines, the sweep ------------------------------------------------


@router.get("/attachments/{attachment_id}")
def download_attachment(
    attachment_id: str,
    session: SessionDep,
    settings: SettingsDep,
    writer: GroupCommitDep,
    principal: CaseViewer,
) -> Response:
    """An evidence file, for the enterprise and whoever handles its case; every read by
    someone other than the enterprise is logged."""
    meta, content = evidence.readable_attachment(
        session, attachment_id=attachment_id, principal=principal
    )
    event = evidence.read_event(principal, meta)
    if event is not None:
        session.commit()  # the shared writer logs the read in its own transaction
        audit_writer.record_sync(writer, [event], settings=settings)
    return Response(
        content,
        media_type=meta.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{meta.id}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/deadlines", response_model=list[DeadlineRow])
def list_deadlines(
    session: SessionDep,
    calendar: CalendarDep,
    principal: RightsStaff,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> list[DeadlineRow]:
    """Open objections and repair applications with their deadlines, overdue first (staff)."""
    return deadlines.dashboard(session, calendar=calendar, limit=limit)


@router.post("/sweep", response_model=SweepResult)
def run_sweep(
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    rules: RulesDep,
    principal: OperatorPrincipal,
) -> SweepResult:
    """End publication at the maximum period (re-rating those entities) and escalate overdue
    cases now (the daily job)."""
    return deadlines.sweep(
        session,
        catalog=catalog,
        rules=rules,
        rerate=repair.rerate_hook(catalog, settings, deadlines.SWEEP_REASON),
    )
