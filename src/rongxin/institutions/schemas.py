"""Onboarding views and inputs (never the tables themselves)."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rongxin.access.schemas import FINANCING_PURPOSES, ApiKeyCreated, Purpose
from rongxin.entities import reference
from rongxin.entities import uscc as uscc_rules
from rongxin.institutions.controls import Evaluation

CODE_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{1,63}$"
REGION_PATTERN: Final = r"^\d{6}$"
NATIONWIDE: Final = "000000"
DEFAULT_DAILY_QUOTA: Final = 1000
MAX_DAILY_QUOTA: Final = 10_000_000
#: an 18-character resident ID number (GB 11643) anywhere in a text: contacts are organisational
ID_NUMBER: Final = re.compile(
    r"(?<![0-9])[1-9]\d{5}(?:18|19|20)\d{2}[01]\d[0-3]\d{4}[0-9Xx](?![0-9])"
)


class InstitutionKind(StrEnum):
    """Licensed financial institutions that may connect (接入机构)."""

    bank = "bank"  # 银行业金融机构
    guarantee = "guarantee"  # 融资担保公司
    microcredit = "microcredit"  # 小额贷款公司
    insurer = "insurer"  # 保险机构
    other_licensed = "other_licensed"  # 其他持牌金融机构


class InstitutionStatus(StrEnum):
    """applied → under_assessment → active ⇄ suspended; rejected, withdrawn (then re-apply)."""

    applied = "applied"  # 已申请
    under_assessment = "under_assessment"  # 评估中
    active = "active"  # 已接入
    suspended = "suspended"  # 已暂停
    rejected = "rejected"  # 未通过
    withdrawn = "withdrawn"  # 已退出


class AssessmentStatus(StrEnum):
    in_progress = "in_progress"
    approved = "approved"
    rejected = "rejected"
    cancelled = "cancelled"  # the institution withdrew


def _financing_only(purposes: list[Purpose]) -> list[Purpose]:
    bad = [p.value for p in purposes if p not in FINANCING_PURPOSES]
    if bad:
        allowed = ", ".join(sorted(p.value for p in FINANCING_PURPOSES))
        raise ValueError(f"institutions may use information for financing only ({allowed}): {bad}")
    return sorted(set(purposes), key=list(Purpose).index)


class InstitutionApply(BaseModel):
    """An application to connect: the institution itself, its licence and an organisational
    contact (a department, its switchboard and functional mailbox — never a person's ID)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(
        pattern=CODE_PATTERN, description="Short code chosen for the institution, e.g. bank-fz."
    )
    name: str = Field(min_length=2, max_length=200, description="Registered name.")
    uscc: str = Field(description="The institution's own 统一社会信用代码.")
    kind: InstitutionKind
    license_number: str = Field(
        pattern=r"^[A-Za-z0-9-]{4,64}$", description="Financial licence number (金融许可证等)."
    )
    contact_department: str = Field(min_length=2, max_length=100)
    contact_phone: str = Field(pattern=r"^\+?[0-9][0-9 -]{5,24}$")
    contact_email: str = Field(max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    address: str = Field("", max_length=200)
    requested_purposes: list[Purpose] = Field(
        min_length=1, description="pre_loan, in_loan and/or post_loan."
    )
    regions: list[str] = Field(
        min_length=1, max_length=400, description="GB/T 2260 codes served (000000 = nationwide)."
    )

    @field_validator("uscc")
    @classmethod
    def _valid_uscc(cls, value: str) -> str:
        result = uscc_rules.validate(value)
        if not result.valid:
            raise ValueError(f"not a valid USCC: {result.reason}")
        return result.code

    @field_validator("requested_purposes")
    @classmethod
    def _purposes(cls, value: list[Purpose]) -> list[Purpose]:
        return _financing_only(value)

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        bad = [r for r in value if not re.fullmatch(REGION_PATTERN, r)]
        if bad:
            raise ValueError(f"regions are 6-digit GB/T 2260 codes, not {bad}")
        unknown = [r for r in value if r != NATIONWIDE and reference.region(r) is None]
        if unknown:
            raise ValueError(f"unknown GB/T 2260 region codes {unknown} (000000 = nationwide)")
        return sorted(set(value))

    @field_validator("contact_department", "contact_phone", "contact_email", "address")
    @classmethod
    def _organisational(cls, value: str) -> str:
        if ID_NUMBER.search(value):
            raise ValueError(
                "contact details are organisational: do not enter a personal ID number"
            )
        return value


class InstitutionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    uscc: str
    kind: InstitutionKind
    license_number: str
    contact_department: str
    contact_phone: str
    contact_email: str
    address: str
    status: InstitutionStatus
    requested_purposes: list[Purpose]
    allowed_purposes: list[Purpose]
    daily_quota: int | None
    regions: list[str]
    applied_at: datetime
    status_changed_at: datetime
    activated_at: datetime | None
    assessment_valid_until: datetime | None
    reassessment_due_date: date | None


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    institution_code: str
    from_status: InstitutionStatus | None
    to_status: InstitutionStatus
    actor: str
    at: datetime
    reason: str


class ScoreInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    control_code: str = Field(min_length=1, max_length=48)
    score: int = Field(ge=0, le=100, description="100 met, 50 partly met, 0 not met (0–100).")
    evidence_ref: str = Field(
        min_length=1, max_length=500, description="Where the evidence is: document number, file."
    )
    note: str = Field("", max_length=1000)


class ScoresInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: list[ScoreInput] = Field(min_length=1, max_length=500)


class ScoreRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    control_code: str
    score: int
    evidence_ref: str
    note: str
    scored_by: str
    scored_at: datetime


class AssessmentRead(BaseModel):
    id: str
    institution_code: str
    controls_version: str
    status: AssessmentStatus
    assessor: str
    approver: str | None
    started_at: datetime
    decided_at: datetime | None
    decision_reason: str
    total_score: float
    pass_threshold: float
    valid_until: datetime | None
    reassessment_due_date: date | None
    scores: list[ScoreRead]
    evaluation: Evaluation


class AssessmentStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=1000)


class Approval(BaseModel):
    """What an approval grants: purposes (financing only), the daily read quota, regions."""

    model_config = ConfigDict(extra="forbid")

    allowed_purposes: list[Purpose] = Field(min_length=1)
    daily_quota: int = Field(DEFAULT_DAILY_QUOTA, ge=1, le=MAX_DAILY_QUOTA)
    regions: list[str] | None = Field(None, description="Defaults to the regions applied for.")

    @field_validator("allowed_purposes")
    @classmethod
    def _purposes(cls, value: list[Purpose]) -> list[Purpose]:
        return _financing_only(value)

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else InstitutionApply._regions(value)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=2, max_length=1000)


class ActivationResult(BaseModel):
    """An approved assessment; ``api_key`` (token shown once) only at first activation."""

    institution: InstitutionRead
    assessment: AssessmentRead
    api_key: ApiKeyCreated | None


class DueRead(BaseModel):
    code: str
    name: str
    status: InstitutionStatus
    assessment_valid_until: datetime
    reassessment_due_date: date
    expired: bool


class QuotaRead(BaseModel):
    institution_code: str
    day: date = Field(description="The China-time day (UTC+8) the count is for.")
    used: int
    daily_quota: int | None
    remaining: int | None
