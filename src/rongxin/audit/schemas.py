"""What goes into the access log and what comes out of it."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rongxin.access.schemas import Purpose


class ActorKind(StrEnum):
    """Who acted: the principal kinds, plus anonymous visitors and the platform itself."""

    provider = "provider"
    institution = "institution"
    operator = "operator"
    regulator = "regulator"
    enterprise = "enterprise"
    anonymous = "anonymous"  # public pages and routes without credentials
    system = "system"  # jobs of the platform itself (push, monitoring …)


class Outcome(StrEnum):
    allowed = "allowed"
    denied = "denied"
    error = "error"


_CODE = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$"
_ITEM_CODE: Final = re.compile(r"^[a-z][a-z0-9_]*$")
# A detail is free text written by code, never personal data: refuse what looks like a resident
# ID number (GB 11643, with a valid check character) or a mainland mobile number.
_ID_NUMBER: Final = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
_MOBILE: Final = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK: Final = "10X98765432"


def _is_id_number(candidate: str) -> bool:
    total = sum(int(c) * w for c, w in zip(candidate[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == candidate[17].upper()


class AccessEvent(BaseModel):
    """One access to record: who (kind, code, user), about which entity (USCC) and items, why
    (purpose), under which authorization, with what outcome. Codes only: the log never holds a
    person's name, an ID number or a record's values."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: str = Field(
        min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_.:-]*$", examples=["report.view"]
    )
    actor_kind: ActorKind
    actor_code: str = Field(min_length=1, max_length=64, pattern=_CODE)
    user_id: str | None = Field(None, max_length=64, pattern=_CODE)
    uscc: str | None = Field(None, pattern=r"^[0-9A-Z]{18}$")
    items: list[str] = Field(default_factory=list, max_length=500)
    purpose: Purpose | None = None
    authorization_id: str | None = Field(None, max_length=64, pattern=_CODE)
    outcome: Outcome
    detail: str = Field("", max_length=500)
    request_id: str | None = Field(None, max_length=64, pattern=_CODE)
    occurred_at: datetime | None = Field(
        None, description="when the access happened (default: when it is appended)"
    )

    @field_validator("items")
    @classmethod
    def _item_codes(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if not _ITEM_CODE.match(c) or len(c) > 64]
        if bad:
            raise ValueError(f"not catalog item codes: {bad[:5]}")
        return sorted(set(value))

    @field_validator("detail")
    @classmethod
    def _no_personal_data(cls, value: str) -> str:
        if any(not ch.isprintable() for ch in value):
            raise ValueError("detail must be printable text on one line")
        if any(_is_id_number(m.group(1)) for m in _ID_NUMBER.finditer(value)) or _MOBILE.search(
            value
        ):
            raise ValueError(
                "detail looks like it holds an ID number or a mobile number; the access log "
                "keeps codes only, never personal data"
            )
        return value

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("occurred_at needs a time zone")
        return value


class AuditEntryRead(BaseModel):
    """One entry of the access log as a viewer sees it."""

    seq: int
    occurred_at: datetime
    action: str
    actor_kind: str
    actor_code: str
    user_id: str | None
    uscc: str | None
    items: list[str]
    purpose: str | None
    purpose_name: str | None = Field(None, description="the purpose in Chinese")
    purpose_name_en: str | None = None
    authorization_id: str | None
    outcome: str
    detail: str
    request_id: str | None
    node_id: str
    entry_hash: str


class AuditEntryPage(BaseModel):
    """Newest first; pass ``next_cursor`` as ``cursor`` for the next (older) page."""

    items: list[AuditEntryRead]
    limit: int
    next_cursor: int | None


class CheckpointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    entry_hash: str
    prev_seq: int
    created_at: datetime
    key_id: str
    signature: str


class ProblemKind(StrEnum):
    """What ``verify`` found wrong at the first bad entry."""

    altered = "altered"  # an entry's fields no longer match its hash
    deleted = "deleted"  # a gap in the sequence: entries were removed
    reordered = "reordered"  # an intact entry sits where it does not belong
    rewritten = "rewritten"  # the chain differs from what a signed checkpoint covers
    bad_checkpoint = "bad_checkpoint"  # a checkpoint's signature does not verify
    missing_checkpoint = "missing_checkpoint"  # a signed checkpoint was removed
    truncated = "truncated"  # entries after the tail a checkpoint or the head recorded are gone
    item_index = "item_index"  # the item index disagrees with the entry's items


class VerifyProblem(BaseModel):
    seq: int = Field(description="the first bad entry (or checkpoint) sequence number")
    kind: ProblemKind
    message: str


class VerifyResult(BaseModel):
    intact: bool
    entries_checked: int
    checkpoints_checked: int
    last_seq: int
    last_hash: str
    last_checkpoint_seq: int
    unsigned_entries: int = Field(
        description="entries after the last checkpoint (not yet covered by a signature)"
    )
    key_id: str
    development_key: bool = Field(
        description="checkpoints are signed with the public development key (no secret key set)"
    )
    problem: VerifyProblem | None = None

    def summary(self) -> str:
        if self.problem is not None:
            p = self.problem
            return f"审计日志被篡改 audit log NOT intact: seq {p.seq}: {p.kind.value}: {p.message}"
        text = (
            f"审计日志完整 audit log intact: {self.entries_checked} entries (last seq "
            f"{self.last_seq}), {self.checkpoints_checked} signed checkpoints (last at seq "
            f"{self.last_checkpoint_seq}), {self.unsigned_entries} entries after the last "
            f"checkpoint, key {self.key_id}"
        )
        if self.development_key:
            text += " (development key: set RONGXIN_SECRET_KEY)"
        return text
