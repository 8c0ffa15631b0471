"""What the monitoring API takes and gives: alerts, their handling, scan results."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rongxin.monitoring.rules import RuleCode, Severity


class AlertStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    closed = "closed"


class AlertRead(BaseModel):
    """One alert: which rule fired for which institution in which window, the counts it saw and
    the access-log entries that are its evidence (seqs only: no personal data)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    rule_code: RuleCode
    rule_version: str
    institution_code: str
    severity: Severity
    window_start: datetime
    window_end: datetime = Field(description="exclusive")
    observed: int = Field(description="the count the rule compared with its threshold")
    threshold: float
    baseline: float | None = Field(
        None, description="volume spike: the institution's trailing mean reads per window"
    )
    counts: dict[str, Any]
    first_seq: int = Field(description="first access-log entry (seq) of the evidence")
    last_seq: int = Field(description="last access-log entry (seq) of the evidence")
    sample_seqs: list[int] = Field(description="up to 20 evidence entries, oldest first")
    related_alert_ids: list[str] = Field(description="escalation: the alerts that led to it")
    escalation_id: str | None = Field(None, description="the escalation that counted this alert")
    action_taken: str = Field(description="escalation: suspended, or why not")
    status: AlertStatus
    created_at: datetime
    updated_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    note: str


class AlertNote(BaseModel):
    """Acknowledging or closing an alert: what the operator found or did."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=2, max_length=1000, description="What was checked or done.")


class ScanResult(BaseModel):
    """One run of the rules over the access log."""

    from_seq: int = Field(description="entries after this seq were read")
    to_seq: int = Field(description="… up to and including this one (the cursor now)")
    entries_scanned: int = Field(description="institutions' read entries in that range")
    rule_version: str
    alerts_created: list[str]
    alerts_updated: list[str]
    suspended: list[str] = Field(description="institutions suspended by escalation")
