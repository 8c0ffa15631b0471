"""The provider protocol (what the platform sends a department's service and what comes back)
and the platform's own verification API.

A *claim* is a statement an institution wants checked against a department's data — "tax paid
in 2025 was at least 1,000,000 元", "certificate 闽(2024)… is registered to this enterprise".
The answer names an outcome per claim; the stored values never come back.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from rongxin.access.schemas import Purpose

Scalar = str | int | float | bool
FieldValue = str | int | float | bool | None

MAX_CLAIMS: Final = 50


class ClaimOp(StrEnum):
    eq = "eq"  # the stored value equals ``value``
    range = "range"  # low <= stored <= high
    gte = "gte"  # stored >= value
    lte = "lte"  # stored <= value


class ClaimAggregate(StrEnum):
    """How a claim reads an entity's several records of one item (monthly tax, properties …)."""

    any = "any"  # holds if some selected record satisfies it (default)
    all = "all"  # holds if every selected record with a value satisfies it
    sum = "sum"  # the sum over the selected records (numbers: annual tax paid …)
    latest = "latest"  # the record with the latest event date


class ClaimOutcome(StrEnum):
    match = "match"
    no_match = "no_match"
    in_range = "in_range"
    out_of_range = "out_of_range"
    no_data = "no_data"  # no record (or no value) to check the claim against


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Claim(_In):
    """One claimed value. ``eq``, ``gte`` and ``lte`` take ``value``; ``range`` takes ``low``
    and ``high`` (inclusive)."""

    field: str = Field(min_length=1, max_length=64, description="the catalog field checked")
    op: ClaimOp
    value: Scalar | None = None
    low: Scalar | None = None
    high: Scalar | None = None
    aggregate: ClaimAggregate = ClaimAggregate.any


class ClaimResult(BaseModel):
    """The outcome of one claim: never the stored value."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(description="position of the claim in the request")
    field: str
    op: ClaimOp
    aggregate: ClaimAggregate
    outcome: ClaimOutcome


class _Call(_In):
    """What every call to a provider's service carries: the item, the subject, and the
    enterprise authorization the platform acts under (cited, so the department can log it)."""

    item: str = Field(min_length=1, max_length=64)
    uscc: str = Field(min_length=18, max_length=18)
    purpose: Purpose
    institution: str | None = Field(
        None, max_length=64, description="the access institution the platform asks for"
    )
    authorization_id: str | None = Field(None, max_length=64)
    authorization_ref: str | None = Field(
        None, max_length=128, description="reference to the authorization's signed evidence"
    )
    date_from: date | None = Field(None, description="data date range: first event date")
    date_to: date | None = Field(None, description="data date range: last event date")


class ProviderQuery(_Call):
    """``POST /query``: the records of one entity and item within the data date range."""

    fields: list[str] | None = Field(
        None, max_length=64, description="fields wanted; null = every field of the item"
    )


class ProviderRecords(BaseModel):
    item: str
    uscc: str
    provider: str
    fields: list[str]
    records: list[dict[str, FieldValue]]
    answered_at: datetime


class ProviderVerify(_Call):
    """``POST /verify``: check claims against one entity's records of one item."""

    where: dict[str, Scalar] = Field(
        default_factory=dict,
        max_length=8,
        description="select records by field equality (certificate_no, tax_type …)",
    )
    claims: list[Claim] = Field(min_length=1, max_length=MAX_CLAIMS)


class ProviderVerdict(BaseModel):
    item: str
    uscc: str
    provider: str
    results: list[ClaimResult]
    answered_at: datetime


class ProviderHealth(BaseModel):
    status: str
    provider: str
    items: list[str]


# ---- the platform's verification API ------------------------------------------------------------


class VerifyRequest(_In):
    """``POST /api/v1/verify`` (an access institution)."""

    uscc: str = Field(min_length=1, max_length=64)
    item: str = Field(min_length=1, max_length=64)
    purpose: Purpose
    authorization_id: str | None = Field(
        None, max_length=64, description="the authorization relied on (checked if given)"
    )
    where: dict[str, Scalar] = Field(default_factory=dict, max_length=8)
    date_from: date | None = None
    date_to: date | None = None
    claims: list[Claim] = Field(min_length=1, max_length=MAX_CLAIMS)


class VerifySource(StrEnum):
    provider = "provider"  # asked the providing department's service (接口调用 / 数据核验)
    platform = "platform"  # compared with the current aggregated record (物理归集)


class VerifyResponse(BaseModel):
    uscc: str
    item: str
    item_name: str
    item_name_en: str
    provider: str
    source: VerifySource
    purpose: Purpose
    authorization_id: str | None
    checked_at: datetime
    results: list[ClaimResult]


# ---- interface records for report assembly -----------------------------------------------------


class InterfaceRecord(BaseModel):
    """One record fetched from a provider at query time (never stored)."""

    item_code: str
    uscc: str
    record_key: str
    payload: dict[str, FieldValue]
    event_date: date | None
    fetched_at: datetime
    provider_code: str


class InterfaceFetch(BaseModel):
    """The records of one interface item for one report, or why the section is unavailable."""

    item_code: str
    provider_code: str
    available: bool
    records: list[InterfaceRecord] = Field(default_factory=list)
    authorization_id: str | None = None
    fetched_at: datetime
    unavailable_reason: str | None = Field(
        None, description="timeout, unreachable, provider_error … when not available"
    )
    note: str | None = None
    note_en: str | None = None
    stored: bool = Field(False, description="always false: interface data is not kept")
