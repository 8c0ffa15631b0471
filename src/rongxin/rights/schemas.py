"""Rights I/O schemas (never the tables themselves)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from rongxin.kit.versioned_text import VersionedText

#: the catalog's provider code of self-reported items (the enterprise itself)
SELF_REPORTED_PROVIDER: Final = "enterprise"


class CommitmentText(VersionedText):
    """A version of the credit commitment (信用承诺书) with its sha256."""


class CommitmentContext(StrEnum):
    self_report = "self_report"
    objection = "objection"
    repair = "repair"


class CommitmentEcho(BaseModel):
    """The commitment the enterprise signs: the version and sha256 of the text it was shown."""

    version: str = Field(max_length=32)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class CommitmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    uscc: str
    version: str
    sha256: str
    context: CommitmentContext
    signed_at: datetime
    status: str
    broken_at: datetime | None
    broken_note: str | None


class NoteBody(BaseModel):
    note: str = Field(min_length=2, max_length=1000)


class CaseKind(StrEnum):
    objection = "objection"
    repair = "repair"
    commitment = "commitment"


class ObjectionStatus(StrEnum):
    submitted = "submitted"  # 已提交: the platform accepts or rejects it
    with_provider = "with_provider"  # 核查中: accepted, flagged 异议中, with the provider
    closed = "closed"  # 已办结
    rejected = "rejected"  # 不予受理
    withdrawn = "withdrawn"  # 已撤回


OPEN_OBJECTION = (ObjectionStatus.submitted, ObjectionStatus.with_provider)


class ObjectionOutcome(StrEnum):
    corrected = "corrected"  # 已更正: a corrected version replaces the record
    confirmed = "confirmed"  # 核实无误: the record stands; the flag is removed
    undecidable = "undecidable"  # 无法核实: the check result and the objection are both shown


class ObjectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_code: str = Field(max_length=64)
    record_key: str = Field(min_length=1, max_length=512)
    fields: list[str] = Field(default_factory=list, max_length=50)
    reason: str = Field(min_length=10, max_length=4000)
    commitment: CommitmentEcho


class ObjectionAnswer(BaseModel):
    """The providing department's answer after its check (核查)."""

    model_config = ConfigDict(extra="forbid")

    outcome: ObjectionOutcome
    check_result: str = Field(min_length=2, max_length=2000)
    corrected: dict[str, Any] | None = Field(
        None, description="outcome corrected: the fields whose values change, and their values"
    )


class ObjectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    uscc: str
    item_code: str
    record_key: str
    record_version: int
    provider_code: str
    fields: str
    reason: str
    rule_code: str
    status: ObjectionStatus
    outcome: ObjectionOutcome | None
    filed_at: datetime
    accept_due_date: date
    provider_due_date: date | None
    final_due_date: date
    accepted_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    escalated_at: datetime | None
    platform_note: str | None
    check_result: str | None
    corrected_version: int | None
    due_date: date | None = Field(None, description="the deadline of the current step")
    overdue: bool = False
    escalated_step: str | None = None
    step_escalated: bool = Field(False, description="the current step has been escalated")


class RepairStatus(StrEnum):
    submitted = "submitted"  # 审核中
    approved = "approved"  # 已修复
    rejected = "rejected"  # 不予修复
    withdrawn = "withdrawn"  # 已撤回


class RepairCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_code: str = Field(max_length=64)
    record_key: str = Field(min_length=1, max_length=512)
    correction: str = Field(
        min_length=10, max_length=4000, description="how the conduct was corrected (纠正情况)"
    )
    commitment: CommitmentEcho


class RepairReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    note: str = Field(min_length=2, max_length=1000)


class RepairRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    uscc: str
    item_code: str
    record_key: str
    record_version: int
    provider_code: str
    rule_code: str
    tier: str
    decision_date: date
    repairable_from: date
    published_until: date
    correction: str
    status: RepairStatus
    filed_at: datetime
    review_due_date: date
    reviewed_at: datetime | None
    reviewer_kind: str | None
    reviewer_code: str | None
    review_note: str | None
    repaired_version: int | None
    escalated_at: datetime | None
    overdue: bool = False


class PublicityRead(BaseModel):
    """A record's publicity terms (DOMAIN.md §5) as of ``today``."""

    item_code: str
    record_key: str
    rule_code: str
    rule_title: str
    tier: str
    decision_date: date
    repairable_from: date
    published_until: date
    repairable_now: bool
    ended: bool


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    case_kind: CaseKind
    case_id: str
    action: str
    status_from: str | None
    status_to: str
    actor_kind: str
    actor_code: str
    note: str
    at: datetime


class NoticeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    uscc: str
    case_kind: CaseKind
    case_id: str
    action: str
    note: str
    created_at: datetime
    read_at: datetime | None


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    uscc: str
    owner_kind: str
    owner_id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class CaseTrail(BaseModel):
    """A case's history and evidence files."""

    events: list[EventRead]
    attachments: list[AttachmentRead]


class ObjectionDetail(CaseTrail):
    objection: ObjectionRead


class RepairDetail(CaseTrail):
    application: RepairRead


class SelfReportCreate(BaseModel):
    """Self-reported information (自主填报, S3): one record of a self-reported catalog item."""

    model_config = ConfigDict(extra="forbid")

    item_code: str = Field(max_length=64)
    values: dict[str, Any] = Field(
        description="the item's fields (uscc and the commitment are set)"
    )
    commitment: CommitmentEcho


class SelfReportResult(BaseModel):
    item_code: str
    record_key: str
    batch_id: str
    outcome: str = Field(description="inserted | updated | unchanged")
    commitment_id: str


class SweepResult(BaseModel):
    """What one run of the rights sweep did."""

    today: date
    expired_records: int
    rerated_entities: int = Field(0, description="entities re-rated at once after the end")
    full_rating_needed: bool = Field(
        False, description="more entities changed than are re-rated at once: run a full rating"
    )
    escalated_objections: int
    escalated_repairs: int


class DeadlineRow(BaseModel):
    """One open case on the operator's deadline dashboard."""

    case_kind: CaseKind
    case_id: str
    uscc: str
    item_code: str
    provider_code: str
    status: str
    step: str
    due_date: date
    final_due_date: date | None
    working_days_left: int
    overdue: bool
    escalated: bool
