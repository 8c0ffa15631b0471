"""The security controls an institution is assessed against (Z1), as versioned data.

``data/security_controls.yaml`` (or ``RONGXIN_SECURITY_CONTROLS_PATH``) holds groups of scored
controls with weights, mandatory (一票否决) flags, the pass threshold and how long a passed
assessment stays valid. The file is validated with pydantic; errors name file, line and field.

Scoring (docs/architecture.md, "Institution onboarding"): each control is scored 0–100 (the
degree to which it is met: 100 符合, 50 部分符合, 0 不符合); the total is the weighted mean of the
scores, 0–100. An assessment passes when every control is scored, the total reaches
``pass_threshold`` and every mandatory control reaches its pass score.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rongxin.institutions.errors import ControlFileError
from rongxin.kit import data_files

DEFAULT_CONTROLS = "security_controls.yaml"
CODE_PATTERN = r"^[a-z][a-z0-9_]{1,47}$"


class Control(BaseModel):
    """One scored control: what is required, the evidence expected and its weight."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field("", max_length=200)
    weight: int = Field(ge=1, le=100, description="Relative weight in the total score.")
    mandatory: bool = Field(False, description="一票否决: must reach its pass score.")
    pass_score: int | None = Field(
        None, ge=1, le=100, description="Mandatory controls: the least score that passes."
    )
    basis: str = Field(min_length=1, max_length=300, description="The norm it derives from.")
    requirement: str = Field(min_length=1, max_length=1000)
    requirement_en: str = Field("", max_length=1000)
    evidence: str = Field(min_length=1, max_length=500, description="Evidence expected.")
    evidence_en: str = Field("", max_length=500)


class ControlGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field("", max_length=200)
    basis: str = Field(min_length=1, max_length=300)
    controls: tuple[Control, ...] = Field(min_length=1)


class ControlSet(BaseModel):
    """A versioned set of controls; an assessment keeps a copy of the set it was made against."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, max_length=32)
    effective_date: date
    basis: tuple[str, ...] = Field(min_length=1)
    pass_threshold: float = Field(gt=0, le=100, description="Least total score (0–100).")
    mandatory_pass_score: int = Field(
        100, ge=1, le=100, description="Default pass score of mandatory controls."
    )
    validity_days: int = Field(ge=30, le=1095, description="How long a passed assessment holds.")
    reassessment_lead_days: int = Field(
        ge=0, le=365, description="Reassessment is due this many days before expiry."
    )
    groups: tuple[ControlGroup, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        groups = [g.code for g in self.groups]
        dup_groups = sorted({c for c in groups if groups.count(c) > 1})
        if dup_groups:
            raise ValueError(f"group codes must be unique: {dup_groups}")
        codes = [c.code for g in self.groups for c in g.controls]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"control codes must be unique: {dup}")
        if self.reassessment_lead_days >= self.validity_days:
            raise ValueError("reassessment_lead_days must be shorter than validity_days")
        for group in self.groups:
            for control in group.controls:
                if control.pass_score is not None and not control.mandatory:
                    raise ValueError(f"{control.code}: pass_score is only for mandatory controls")
        return self

    def controls(self) -> dict[str, Control]:
        return {c.code: c for g in self.groups for c in g.controls}

    def pass_score(self, control: Control) -> int:
        return control.pass_score or self.mandatory_pass_score


class Evaluation(BaseModel):
    """Where an assessment stands against its controls."""

    total_score: float = Field(description="Weighted mean of the scores, 0–100 (missing = 0).")
    pass_threshold: float
    scored: int
    control_count: int
    missing: list[str] = Field(description="Controls not scored yet.")
    failed_mandatory: list[str] = Field(description="Mandatory controls below their pass score.")
    passed: bool
    problems: list[str] = Field(description="Why it does not pass, one sentence each.")


def evaluate(control_set: ControlSet, scores: Mapping[str, int]) -> Evaluation:
    """Total, missing and failed mandatory controls of ``scores`` ({control code: 0–100})."""
    controls = control_set.controls()
    weights = sum(c.weight for c in controls.values())
    total = round(sum(c.weight * scores.get(code, 0) for code, c in controls.items()) / weights, 2)
    missing = [code for code in controls if code not in scores]
    failed = [
        code
        for code, c in controls.items()
        if c.mandatory and code in scores and scores[code] < control_set.pass_score(c)
    ]
    problems: list[str] = []
    if missing:
        problems.append(f"{len(missing)} controls are not scored yet: {', '.join(missing)}")
    for code in failed:
        c = controls[code]
        problems.append(
            f"mandatory control {code} ({c.name}) scored {scores[code]}, "
            f"needs at least {control_set.pass_score(c)}"
        )
    if total < control_set.pass_threshold:
        problems.append(
            f"total score {total:g} is below the pass threshold {control_set.pass_threshold:g}"
        )
    return Evaluation(
        total_score=total,
        pass_threshold=control_set.pass_threshold,
        scored=len(controls) - len(missing),
        control_count=len(controls),
        missing=missing,
        failed_mandatory=failed,
        passed=not problems,
        problems=problems,
    )


# ---- loading ------------------------------------------------------------------------------------


def parse_controls(text: str, *, source: str) -> ControlSet:
    """Parse and validate a control file; errors name the source, line and field."""
    return data_files.parse(text, ControlSet, source=source, error=ControlFileError)


def load_controls(path: Path | None = None) -> ControlSet:
    """The operator's control file when given, else the shipped default (read once per
    process: restart to apply a change; a file that fails validation is not remembered)."""
    return data_files.shipped_or_file(
        ControlSet,
        shipped=DEFAULT_CONTROLS,
        path=path,
        what="the control file",
        error=ControlFileError,
        remember=True,
    )
