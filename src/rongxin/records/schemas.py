"""Read views of credit records (never the tables themselves)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class RecordStatus(StrEnum):
    published = "published"  # 公示中 / normal
    disputed = "disputed"  # 异议中 (rights issue)
    repaired = "repaired"  # 已修复: no longer published or shared (rights issue)
    expired = "expired"  # publicity period ended (rights issue)


VISIBLE_STATUSES = (RecordStatus.published, RecordStatus.disputed)


class RecordView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    change_seq: int
    item_code: str
    uscc: str
    record_key: str
    version: int
    is_current: bool
    payload: dict[str, Any]
    event_date: date | None
    status: RecordStatus
    provider_code: str
    batch_id: str | None
    provider_record_id: str | None
    origin_node: str
    received_at: datetime


class RecordChange(RecordView):
    """A change in the node's change sequence, with the entity's region and industry."""

    region_code: str | None = None
    industry_section: str | None = None
