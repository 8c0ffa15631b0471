"""Batch-push views and inputs (never the tables themselves)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DeliveryMode(StrEnum):
    file = "file"
    webhook = "webhook"


class FileFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    xlsx = "xlsx"


class SubscriptionStatus(StrEnum):
    active = "active"
    paused = "paused"


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


REGION_PATTERN = r"^\d{2,6}$"
SECTION_PATTERN = r"^[A-T]$"


class SubscriptionCreate(BaseModel):
    """What an institution subscribes to and how it wants it delivered."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=200)
    institution_code: str | None = Field(
        None,
        max_length=64,
        description="Only operators give this; an institution always subscribes for itself.",
    )
    region_prefix: str | None = Field(
        None, pattern=REGION_PATTERN, description="GB/T 2260 code or prefix, e.g. 35 or 3501."
    )
    industry_sections: list[str] | None = Field(
        None, min_length=1, description='GB/T 4754 sections, e.g. ["C", "F"].'
    )
    categories: list[str] | None = Field(
        None, min_length=1, description='Catalog category codes, e.g. ["penalty"].'
    )
    delivery: DeliveryMode = DeliveryMode.file
    file_format: FileFormat | None = Field(None, description="csv, jsonl or xlsx (file delivery).")
    webhook_url: str | None = Field(None, max_length=2000, description="http(s) URL (webhook).")
    from_beginning: bool = Field(
        False, description="Deliver every existing record first (default: only changes from now)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.delivery is DeliveryMode.file:
            if self.file_format is None:
                raise ValueError("file delivery needs file_format (csv, jsonl or xlsx)")
            if self.webhook_url is not None:
                raise ValueError("webhook_url is only for webhook delivery")
        else:
            if not self.webhook_url:
                raise ValueError("webhook delivery needs webhook_url")
            if self.file_format is not None:
                raise ValueError("file_format is only for file delivery")
        return self


class SubscriptionRead(BaseModel):
    """A subscription as its owner and operators see it (never the webhook secret)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    institution_code: str
    name: str
    region_prefix: str | None
    industry_sections: list[str] | None
    categories: list[str] | None
    delivery: DeliveryMode
    file_format: FileFormat | None
    webhook_url: str | None
    cursor: int
    status: SubscriptionStatus
    created_at: datetime
    paused_reason: str | None


class SubscriptionCreated(SubscriptionRead):
    webhook_secret: str | None = Field(
        None, description="HMAC-SHA256 key for X-Rongxin-Signature; shown only this once."
    )


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    subscription_id: str
    from_seq: int
    to_seq: int
    record_count: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    file_name: str | None = None
    created_at: datetime
    delivered_at: datetime | None


class RunResult(BaseModel):
    """What one run did for one delivery."""

    subscription_id: str
    delivery_id: str
    from_seq: int
    to_seq: int
    record_count: int
    status: DeliveryStatus
    attempts: int
    retried: bool
    error: str | None = None


class RunSummary(BaseModel):
    subscriptions: int = Field(0, description="active subscriptions looked at")
    waiting: int = Field(0, description="subscriptions whose pending delivery is not yet due")
    delivered: int = 0
    retrying: int = Field(0, description="deliveries that failed this time and will be retried")
    failed: int = Field(0, description="deliveries that failed for good (subscription paused)")
    records: int = Field(0, description="records in the deliveries delivered")
    results: list[RunResult] = Field(default_factory=list)
