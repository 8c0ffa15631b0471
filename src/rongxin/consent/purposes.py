"""Purpose templates (用途模板): versioned data that caps what an authorization may ask for.

The shipped file is ``rongxin/data/consent_purposes.yaml``; ``Settings.consent_purposes_path``
names an operator's replacement. Errors name the file, line and field, like the catalog loader.
The set in force at a moment is the one with the latest ``effective_date`` on or before it.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rongxin.access.schemas import FINANCING_PURPOSES, Purpose
from rongxin.consent.errors import ConsentDataError
from rongxin.consent.schemas import AuthorizationMode, FetchFrequency
from rongxin.kit import data_files

DEFAULT_FILE = "consent_purposes.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PurposeTemplate(_Strict):
    purpose: Purpose
    name: str
    name_en: str
    description: str = ""
    description_en: str = ""
    max_validity_days: int = Field(ge=1, le=3660)
    access_modes: list[AuthorizationMode] = Field(min_length=1)
    fetch_frequencies: list[FetchFrequency] = Field(default_factory=list)
    reconfirm_days: int | None = Field(None, ge=1)
    max_retention_days: int = Field(ge=0, le=36600)
    max_data_range_days: int = Field(ge=1, le=36600)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.purpose not in FINANCING_PURPOSES:
            allowed = ", ".join(sorted(p.value for p in FINANCING_PURPOSES))
            raise ValueError(
                f"purpose {self.purpose.value!r} is not a financing purpose ({allowed}); "
                "institutions may use information only for financing (Z2)"
            )
        periodic = AuthorizationMode.periodic in self.access_modes
        if periodic and (not self.fetch_frequencies or self.reconfirm_days is None):
            raise ValueError("access mode periodic needs fetch_frequencies and reconfirm_days")
        if not periodic and (self.fetch_frequencies or self.reconfirm_days is not None):
            raise ValueError("fetch_frequencies and reconfirm_days are only for mode periodic")
        if self.reconfirm_days is not None and self.reconfirm_days > self.max_validity_days:
            raise ValueError("reconfirm_days is longer than max_validity_days")
        return self


class TemplateSet(_Strict):
    version: str = Field(min_length=1, max_length=32)
    effective_date: date
    title: str = ""
    purposes: list[PurposeTemplate] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        seen = [t.purpose for t in self.purposes]
        dupes = sorted({p.value for p in seen if seen.count(p) > 1})
        if dupes:
            raise ValueError(f"template set {self.version!r}: purposes listed twice: {dupes}")
        return self

    def template(self, purpose: Purpose) -> PurposeTemplate | None:
        return next((t for t in self.purposes if t.purpose is purpose), None)


class PurposeTemplates(_Strict):
    template_sets: list[TemplateSet] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        versions = [s.version for s in self.template_sets]
        dupes = sorted({v for v in versions if versions.count(v) > 1})
        if dupes:
            raise ValueError(f"template set versions listed twice: {dupes}")
        return self

    def in_force(self, at: datetime | date) -> TemplateSet:
        """The set whose effective date is the latest on or before ``at``."""
        day = at.date() if isinstance(at, datetime) else at
        candidates = [s for s in self.template_sets if s.effective_date <= day]
        if not candidates:
            first = min(s.effective_date for s in self.template_sets)
            raise ConsentDataError(
                f"no purpose-template set is in force on {day.isoformat()} "
                f"(the earliest takes effect on {first.isoformat()})"
            )
        return max(candidates, key=lambda s: s.effective_date)

    def version(self, version: str) -> TemplateSet | None:
        return next((s for s in self.template_sets if s.version == version), None)


def parse_templates(text: str, *, source: str) -> PurposeTemplates:
    """Parse and validate a purpose-template file; errors name source, line and field."""
    return data_files.parse(text, PurposeTemplates, source=source, error=ConsentDataError)


def load_templates(path: Path | None = None) -> PurposeTemplates:
    """The operator's template file when given, else the shipped default."""
    return data_files.shipped_or_file(
        PurposeTemplates,
        shipped=DEFAULT_FILE,
        path=path,
        what="purpose templates",
        error=ConsentDataError,
    )
