"""Ingestion I/O: batch results and quality summaries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class BatchStatus(StrEnum):
    committed = "committed"  # records written (inserted / updated / unchanged counted)
    rejected = "rejected"  # nothing written; ``problems`` says why
    duplicate = "duplicate"  # an identical file (same checksum) was already committed


class ProblemRead(BaseModel):
    file: str
    line: int
    field: str
    reason: str
    value: str | None = None


class QualityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rows: int
    completeness: float
    validity: float
    timeliness_median_days: float | None
    timeliness_p90_days: float | None
    duplicate_rate: float
    unchanged_rate: float


class BatchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    provider_code: str
    item_code: str
    source_name: str
    checksum: str
    file_format: str
    origin_node: str
    status: BatchStatus
    duplicate_of: str | None
    received_at: datetime
    completed_at: datetime | None
    row_count: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int


class BatchResult(BatchRead):
    """A batch with its quality and, when rejected, the first problems (capped) and their count."""

    encoding: str | None = None
    quality: QualityRead | None = None
    problems: list[ProblemRead] = []
    problem_count: int = 0
    ignored_columns: list[str] = []
    registry: dict[str, int] | None = None


class BatchPage(BaseModel):
    items: list[BatchRead]
    total: int
    limit: int
    offset: int


class QualityRow(BaseModel):
    """Quality of one provider's item over its batches (``rongxin quality report``)."""

    provider_code: str
    item_code: str
    batches: int
    committed: int
    rejected_batches: int
    rows: int
    completeness: float | None
    validity: float | None
    timeliness_median_days: float | None
    duplicate_rate: float | None
    unchanged_rate: float | None
    last_received_at: datetime | None


class QualityPoint(BaseModel):
    """One batch on a quality trend line."""

    batch_id: str
    received_at: datetime
    status: BatchStatus
    rows: int
    completeness: float
    validity: float
    timeliness_median_days: float | None
