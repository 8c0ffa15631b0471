"""Consent views and inputs (never the tables themselves)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rongxin.access.schemas import Purpose
from rongxin.kit.versioned_text import VersionedText


class AuthorizationMode(StrEnum):
    """How the institution may use the authorized items (DOMAIN.md §12)."""

    view = "view"  # 查询: read the records while the authorization is active
    verify_only = "verify_only"  # 仅核验: only check claimed values (数据核验); nothing is shown
    periodic = "periodic"  # 定期获取: fetch repeatedly (贷后管理), reconfirmed periodically


class FetchFrequency(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"


class AuthorizationStatus(StrEnum):
    requested = "requested"  # 待授权
    active = "active"  # 已授权 (approved)
    rejected = "rejected"  # 已拒绝
    paused = "paused"  # 已暂停
    revoked = "revoked"  # 已撤销
    expired = "expired"  # 已过期


#: states that end an authorization for good
FINAL_STATUSES = frozenset(
    {AuthorizationStatus.rejected, AuthorizationStatus.revoked, AuthorizationStatus.expired}
)


class AuthorizationAction(StrEnum):
    request = "request"
    approve = "approve"
    reject = "reject"
    pause = "pause"
    resume = "resume"
    reconfirm = "reconfirm"
    revoke = "revoke"
    expire = "expire"
    supersede = "supersede"


class ApprovalChannel(StrEnum):
    api = "api"  # the enterprise's system, with its API key
    web = "web"  # the enterprise's authorization centre (signed-in page)


REF_PATTERN = r"^[\w.:/#-]{1,64}$"


class AuthorizationRequest(BaseModel):
    """What an institution asks an enterprise to authorize."""

    model_config = ConfigDict(extra="forbid")

    uscc: str = Field(min_length=18, max_length=18, description="The enterprise's USCC.")
    loan_application_ref: str = Field(
        pattern=REF_PATTERN,
        description="The product or loan application this serves (letters, digits, . : / # -).",
    )
    purpose: Purpose = Field(description="pre_loan, in_loan or post_loan (financing only, Z2).")
    items: list[str] = Field(min_length=1, max_length=100, description="Catalog item codes.")
    access_mode: AuthorizationMode = AuthorizationMode.view
    fetch_frequency: FetchFrequency | None = Field(None, description="Periodic mode only.")
    data_from_date: date = Field(description="First day of the data covered.")
    data_to_date: date = Field(description="Last day of the data covered.")
    retention_days: int = Field(
        0, ge=0, le=36600, description="How long the institution may keep what it received."
    )
    valid_from: datetime | None = Field(None, description="Start (default: now); with zone.")
    valid_until: datetime = Field(description="End (exclusive), with a time zone.")
    supersedes_id: str | None = Field(
        None, max_length=32, description="An earlier authorization this one replaces."
    )


class AuthorizationEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: AuthorizationAction
    from_status: AuthorizationStatus | None
    to_status: AuthorizationStatus
    actor_kind: str
    actor_code: str
    actor_id: str | None
    at: datetime
    reason: str


class AuthorizationRead(BaseModel):
    """An authorization as seen at one moment: ``status`` already counts expiry."""

    id: str
    version: int
    supersedes_id: str | None
    uscc: str
    institution_code: str
    loan_application_ref: str
    purpose: Purpose
    template_version: str
    items: list[str]
    access_mode: AuthorizationMode
    fetch_frequency: FetchFrequency | None
    data_from_date: date
    data_to_date: date
    retention_days: int
    valid_from: datetime
    valid_until: datetime
    reconfirm_days: int | None
    reconfirm_due_at: datetime | None
    status: AuthorizationStatus
    needs_reconfirmation: bool = Field(
        description="Periodic: the reconfirmation is overdue; reads stop until reconfirmed."
    )
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    approval_channel: ApprovalChannel | None
    risk_notice_version: str | None
    risk_notice_sha256: str | None
    status_changed_at: datetime

    def allows_mode(self, mode: str) -> bool:
        """Whether reads in ``mode`` ("view" or "verify") fall under the access mode."""
        if self.access_mode is AuthorizationMode.verify_only:
            return mode == "verify"
        return mode in ("view", "verify")


class AuthorizationDetail(AuthorizationRead):
    events: list[AuthorizationEventRead]


class ReasonBody(BaseModel):
    """An enterprise's reason for rejecting, revoking or pausing (optional, kept short)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=500)


class Approval(BaseModel):
    """The enterprise approves, echoing the hash of the risk notice it was shown."""

    model_config = ConfigDict(extra="forbid")

    risk_notice_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="sha256 of the risk notice shown (GET …/notice); a stale hash is refused.",
    )


class RiskNoticeRead(VersionedText):
    """A version of the risk notice (风险提示) with its sha256."""


class NoticeForAuthorization(BaseModel):
    """What the enterprise sees before deciding: the terms and the current risk notice."""

    authorization: AuthorizationRead
    notice: RiskNoticeRead


class EvidenceKeyRead(BaseModel):
    alg: str
    key_id: str
    public_key: str = Field(description="Raw Ed25519 public key, base64.")


class EvidenceRead(BaseModel):
    """The signed record of the approved terms and whether it verifies now."""

    authorization_id: str
    alg: str
    key_id: str
    public_key: str
    canonical: str = Field(description="The signed bytes (UTF-8 canonical JSON).")
    record: dict[str, Any]
    signature: str = Field(description="Ed25519 signature of `canonical`, base64.")
    verified: bool
    reason: str
