"""Rating views and inputs (never the tables themselves): scorecard training, the registry,
stability (PSI)."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from enum import StrEnum
from typing import Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rongxin.rating.indicators import SCALE
from rongxin.rating.scorecards import ScorecardSpec

PLATFORM_OWNER: Final = "platform"
OWNER_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{1,63}$"


# ---- training ----------------------------------------------------------------------------------

#: optbinning's monotonic trends of the event rate over a numerical variable's bins ("none": free)
MonotonicTrend = Literal[
    "auto",
    "auto_heuristic",
    "auto_asc_desc",
    "ascending",
    "descending",
    "concave",
    "convex",
    "peak",
    "valley",
    "peak_heuristic",
    "valley_heuristic",
    "none",
]


class TrainingOptions(BaseModel):
    """How a scorecard is trained (optbinning's defaults for credit scoring unless overridden)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str = Field(min_length=1)
    bad: str = Field(description="the target value of a bad outcome (the event)")
    name: str = Field(min_length=1, max_length=100)
    version: str = Field("1", min_length=1, max_length=32)
    test_size: float = Field(0.3, gt=0, lt=1)
    seed: int = 42
    exclude: tuple[str, ...] = ()
    categorical: tuple[str, ...] = Field((), description="columns binned as categories")
    monotonic_trend: MonotonicTrend = "auto_asc_desc"
    max_n_bins: int | None = Field(None, ge=2, le=100)
    logistic_c: float = Field(1.0, gt=0, description="inverse regularization strength")
    pdo: float = Field(20, gt=0, description="points to double the odds")
    odds: float = Field(50, gt=0, description="the good:bad odds at scorecard_points")
    scorecard_points: float = 600
    rounding: bool = False
    score_bands: int = Field(10, ge=2, le=100, description="score bands kept for PSI")


class Metrics(BaseModel):
    """Discrimination on the held-out sample (the rows the scorecard was not fitted on)."""

    model_config = ConfigDict(frozen=True)

    auc: float = Field(ge=0, le=1)
    ks: float = Field(ge=0, le=1)
    gini: float = Field(ge=-1, le=1)
    rows: int = Field(ge=0, description="held-out rows")
    bads: int = Field(ge=0)
    bad_rate: float = Field(ge=0, le=1)
    train_rows: int = Field(ge=0)
    train_bad_rate: float = Field(ge=0, le=1)


class BinCounts(BaseModel):
    """How many rows fell in each bin (``labels`` and ``counts`` by position)."""

    model_config = ConfigDict(frozen=True)

    labels: list[str]
    counts: list[int]

    @model_validator(mode="after")
    def _same_length(self) -> Self:
        if len(self.labels) != len(self.counts) or not self.counts:
            raise ValueError("labels and counts need one entry per bin")
        if any(c < 0 for c in self.counts):
            raise ValueError("counts cannot be negative")
        return self

    @property
    def total(self) -> int:
        return sum(self.counts)


class ScoreBands(BinCounts):
    """Score bands: a score falls in the first band with ``score < upper`` (the last has none)."""

    uppers: list[float]

    @model_validator(mode="after")
    def _bands(self) -> Self:
        if len(self.uppers) != len(self.counts) - 1:
            raise ValueError("score bands need one upper fewer than counts")
        if any(b <= a for a, b in itertools.pairwise(self.uppers)):
            raise ValueError("score band uppers must increase")
        return self


class ScorecardReference(BaseModel):
    """The development sample's distributions, the baseline of stability monitoring."""

    model_config = ConfigDict(frozen=True)

    rows: int = Field(ge=1)
    score: ScoreBands
    variables: dict[str, BinCounts]


class TrainingResult(BaseModel):
    """A trained scorecard: the portable card, its held-out metrics, what data it came from."""

    model_config = ConfigDict(frozen=True)

    spec: ScorecardSpec
    metrics: Metrics
    fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$")
    reference: ScorecardReference
    options: TrainingOptions
    variables: dict[str, str] = Field(description="variable → numerical or categorical")
    export_max_abs_diff: float = Field(
        ge=0, description="the card against optbinning's Scorecard.score on the held-out rows"
    )


# ---- stability ---------------------------------------------------------------------------------


class PsiLevel(StrEnum):
    stable = "stable"  # 稳定
    watch = "watch"  # 关注
    alert = "alert"  # 预警


class PsiThresholds(BaseModel):
    """PSI at or above ``watch`` calls for a look, at or above ``alert`` for action."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    watch: float = Field(0.1, gt=0)
    alert: float = Field(0.25, gt=0)
    epsilon: float = Field(1e-4, gt=0, lt=0.01, description="added to every share (empty bins)")

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.alert <= self.watch:
            raise ValueError("the alert threshold must be above the watch threshold")
        return self

    def level(self, psi: float) -> PsiLevel:
        if psi >= self.alert:
            return PsiLevel.alert
        if psi >= self.watch:
            return PsiLevel.watch
        return PsiLevel.stable


class PsiBin(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    reference_share: float
    current_share: float
    contribution: float


class PsiResult(BaseModel):
    """The population stability index of one distribution (the score or a variable)."""

    model_config = ConfigDict(frozen=True)

    name: str
    psi: float = Field(ge=0)
    level: PsiLevel
    bins: list[PsiBin]


class StabilityReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    scorecard: str
    version: str
    reference_rows: int
    current_rows: int
    thresholds: PsiThresholds
    score: PsiResult
    variables: list[PsiResult]
    level: PsiLevel = Field(description="the worst level of the score and the variables")
    alerts: list[str] = Field(description="what passed a threshold, worst first")


# ---- the registry --------------------------------------------------------------------------------


class ScorecardStatus(StrEnum):
    """draft → approved → retired; a draft may be retired without approval."""

    draft = "draft"  # 草稿
    approved = "approved"  # 已批准
    retired = "retired"  # 已停用


class ScorecardRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: str
    owner_code: str
    name: str
    version: str
    spec: ScorecardSpec
    fingerprint: str | None
    metrics: Metrics | None
    reference: ScorecardReference | None
    status: ScorecardStatus
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None


# ---- runs and portraits ------------------------------------------------------------------------


class RatingRunRead(BaseModel):
    model_config = {"from_attributes": True}

    id: str
    system_code: str
    system_version: str
    features_version: str
    engine: str
    as_of: date
    status: str
    started_at: datetime
    completed_at: datetime | None
    entity_count: int
    changed_count: int
    grade_counts: dict[str, int] | None
    seconds: float | None
    previous_run_id: str | None
    triggered_by: str
    scope: str = "full"


class IndicatorLine(BaseModel):
    """One line of the indicator sheet."""

    code: str
    name: str
    name_en: str
    value: str | float | None
    points: int
    max_points: int
    weight: int
    lost: float  # score points lost against the indicator's best (0–1000 scale)


class DimensionLine(BaseModel):
    code: str
    name: str
    name_en: str
    weight: int
    score: float  # 0–100, the weighted mean of its indicators' points
    indicators: list[IndicatorLine]


class Improvement(BaseModel):
    """What would raise the rating: a veto to lift (it caps the grade whatever the score), or
    an indicator that lost points; with the advice."""

    kind: Literal["veto", "indicator"]
    code: str  # the veto's or the indicator's code
    name: str
    name_en: str
    gain: float  # score points won if the indicator reached its best (0 for a veto)
    advice: str
    advice_en: str


class VetoRead(BaseModel):
    code: str
    name: str
    name_en: str
    cap_grade: str


class RatingPoint(BaseModel):
    run_id: str
    as_of: date
    score: float
    grade: str


class LatestRating(RatingPoint):
    """An entity's latest rating and the indicator system it was computed with (for reports)."""

    system_code: str
    system_version: str


class PeerStanding(BaseModel):
    group: str
    province: str | None
    industry_section: str | None
    size_class: str | None
    percentile: float  # share of peers rated lower, 0–100


class RatingPortrait(BaseModel):
    """An entity's rating portrait (画像)."""

    uscc: str
    run_id: str
    as_of: date
    system_code: str
    system_version: str
    score: float
    grade: str
    grade_name: str | None
    grade_name_en: str | None
    scale: int = SCALE
    data_sources: int
    data_depth: str
    data_depth_name: str | None
    veto: VetoRead | None
    reasons: list[str]
    peers: PeerStanding
    dimensions: list[DimensionLine]  # empty when the run used another system version
    improvements: list[Improvement]
    history: list[RatingPoint]
