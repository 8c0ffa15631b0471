"""The abuse rules (Z3) as versioned data.

``data/abuse_rules.yaml`` (or ``RONGXIN_ABUSE_RULES_PATH``) sets, per rule, its severity, window
and thresholds; the file is validated with pydantic and errors name file, line and field. The
rules themselves (what is counted) are in :mod:`rongxin.monitoring.evaluation`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rongxin.kit import data_files
from rongxin.monitoring.errors import RuleFileError

DEFAULT_RULES: Final = "abuse_rules.yaml"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self]


SEVERITY_RANK: Final = {
    Severity.low: 1,
    Severity.medium: 2,
    Severity.high: 3,
    Severity.critical: 4,
}


class RuleCode(StrEnum):
    """The rules; an alert names the one that raised it."""

    volume_spike = "volume_spike"
    refused_reads = "refused_reads"
    unauthorized_reads = "unauthorized_reads"
    public_bulk = "public_bulk"
    off_hours_bulk = "off_hours_bulk"
    escalation = "escalation"


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field("", max_length=200)
    enabled: bool = True
    severity: Severity


class _Windowed(_Rule):
    window_hours: int = Field(
        ge=1, le=24, description="Length of the counting window; must divide 24 (China time)."
    )

    @model_validator(mode="after")
    def _divides_a_day(self) -> Self:
        if 24 % self.window_hours:
            raise ValueError(
                f"window_hours must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24), not {self.window_hours}"
            )
        return self


class VolumeSpike(_Windowed):
    """Reads in a window exceed ``multiplier`` × the institution's own trailing mean per window
    and the absolute floor ``min_reads``."""

    baseline_days: int = Field(ge=1, le=90)
    multiplier: float = Field(gt=1, le=1000)
    min_reads: int = Field(ge=1)


class RefusedReads(_Windowed):
    """At least ``min_denied`` refused accesses (reads without authorization) in a window."""

    min_denied: int = Field(ge=1)


class UnauthorizedReads(_Windowed):
    """Allowed reads of non-public items that cite no authorization, or one that is not the
    reader's, or one without a loan application reference."""

    min_reads: int = Field(ge=1)


class PublicBulk(_Windowed):
    """At least ``min_enterprises`` distinct enterprises read under no authorization."""

    min_enterprises: int = Field(ge=2)


class OffHoursBulk(_Rule):
    """At least ``min_reads`` reads in one night, ``start_hour`` to ``end_hour`` China time."""

    start_hour: int = Field(ge=0, le=23)
    end_hour: int = Field(ge=0, le=23)
    min_reads: int = Field(ge=1)

    @model_validator(mode="after")
    def _a_period(self) -> Self:
        if self.start_hour == self.end_hour:
            raise ValueError("start_hour and end_hour must differ")
        return self

    @property
    def hours(self) -> int:
        return (self.end_hour - self.start_hour) % 24


class Escalation(_Rule):
    """``alerts`` alerts of at least ``min_severity`` whose windows start within ``days`` days
    suspend the institution."""

    min_severity: Severity
    alerts: int = Field(ge=1, le=100)
    days: int = Field(ge=1, le=365)


class AbuseRules(BaseModel):
    """A versioned rule set; each alert keeps the version that raised it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, max_length=32)
    effective_date: date
    basis: tuple[str, ...] = Field(min_length=1)
    read_actions: tuple[str, ...] = Field(min_length=1)
    volume_spike: VolumeSpike
    refused_reads: RefusedReads
    unauthorized_reads: UnauthorizedReads
    public_bulk: PublicBulk
    off_hours_bulk: OffHoursBulk
    escalation: Escalation

    def rule(self, code: RuleCode) -> _Rule:
        found: _Rule = getattr(self, code.value)
        return found


def parse_rules(text: str, *, source: str) -> AbuseRules:
    """Parse and validate a rule file; errors name the source, line and field."""
    return data_files.parse(text, AbuseRules, source=source, error=RuleFileError)


def load_rules(path: Path | None = None) -> AbuseRules:
    """The operator's rule file when given, else the shipped default (read once per process:
    restart to apply a change; a file that fails validation is not remembered)."""
    return data_files.shipped_or_file(
        AbuseRules,
        shipped=DEFAULT_RULES,
        path=path,
        what="the abuse-rule file",
        error=RuleFileError,
        remember=True,
    )
