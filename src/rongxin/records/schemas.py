"""Read views of credit records (never the tables themselves)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class RecordStatus(StrEnum):
    published = "published"  # 公示中 / normal
    disputed = "disputed"  # 异议中: an objection is open (G4)
    annotated = "annotated"  # 异议已标注: the objection could not be decided; both are shown
    repaired = "repaired"  # 已修复: no longer published or shared (G4)
    expired = "expired"  # 公示期满: the maximum publicity period ended (G4)


#: what institutions, the public and the platform's own rating see
VISIBLE_STATUSES = (RecordStatus.published, RecordStatus.disputed, RecordStatus.annotated)
#: what the information subject itself sees (its own history, G3)
ALL_STATUSES = tuple(RecordStatus)
#: statuses a new delivery of a changed record keeps (an open objection, an ended publication)
STICKY_STATUSES = (RecordStatus.disputed, RecordStatus.repaired, RecordStatus.expired)


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
