"""The indicator system (评价指标体系, E1) as versioned data, and the rating it gives as one
engine-portable expression.

``data/indicator_system.yaml`` sets dimensions → indicators → weights, per-indicator scoring
(count or band thresholds, or status values), veto rules that cap the grade, the grades and the
data-depth levels. :func:`rating_table` turns it into one ibis expression over the feature
table (:mod:`rongxin.rating.features`).

Results are identical on every engine by construction: points are whole numbers, every weight
product is a whole number (``coefficients``), so the weighted sum is exact integer arithmetic;
the score is that integer divided once by a constant, and grades compare integers.
"""

from __future__ import annotations

import itertools
import math
from datetime import date
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rongxin.kit import data_files
from rongxin.rating.errors import RatingFileError
from rongxin.rating.features import SOURCES_COLUMN, FeatureSet

if TYPE_CHECKING:
    import ibis.expr.types as ir

DEFAULT_SYSTEM: Final = "indicator_system.yaml"
SCALE: Final = 1000  # scores run from 0 to SCALE


class Band(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max: float | None = None  # the last band has none
    points: int = Field(ge=0, le=100)


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")
    feature: str
    method: Literal["count", "band", "status"]
    weight: int = Field(ge=1, le=1000)
    bands: tuple[Band, ...] = ()
    statuses: dict[str, int] = Field(default_factory=dict)
    other_points: int | None = Field(None, ge=0, le=100)
    missing_points: int | None = Field(None, ge=0, le=100)
    relative_to_year: bool = False  # band on (as-of year − value), for year-valued features
    advice: str = Field(min_length=1, max_length=200)
    advice_en: str = Field(min_length=1, max_length=300)

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if self.method == "status":
            if not self.statuses or self.bands:
                raise ValueError("a status indicator needs statuses and takes no bands")
            if any(not 0 <= p <= 100 for p in self.statuses.values()):
                raise ValueError("status points must be 0–100")
            if self.other_points is None:
                raise ValueError("a status indicator needs other_points (for other values)")
            return self
        if not self.bands or self.statuses:
            raise ValueError(f"a {self.method} indicator needs bands and takes no statuses")
        *inner, last = self.bands
        if last.max is not None or any(b.max is None for b in inner):
            raise ValueError("every band but the last has a max; the last has none")
        maxima = [b.max for b in inner if b.max is not None]
        if any(b <= a for a, b in itertools.pairwise(maxima)):
            raise ValueError("band maxima must increase")
        if self.method == "band" and self.missing_points is None:
            raise ValueError("a band indicator needs missing_points (for entities without data)")
        return self

    @property
    def max_points(self) -> int:
        if self.method == "status":
            return max([*self.statuses.values(), self.other_points or 0])
        return max(b.points for b in self.bands)


class Dimension(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")
    name: str = Field(min_length=1, max_length=50)
    name_en: str = Field(min_length=1, max_length=100)
    weight: int = Field(ge=1, le=1000)
    indicators: tuple[Indicator, ...] = Field(min_length=1)

    @property
    def indicator_weight(self) -> int:
        return sum(i.weight for i in self.indicators)


class Grade(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    grade: str = Field(pattern=r"^[A-Z]{1,4}[+-]?$")
    min: int = Field(ge=0, le=SCALE)
    name: str = Field(min_length=1, max_length=20)
    name_en: str = Field("", max_length=60)


class DepthLevel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    level: str = Field(pattern=r"^[a-z]+$")
    min_sources: int = Field(ge=0)
    name: str
    name_en: str


class Veto(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")
    name: str
    name_en: str
    feature: str
    at_least: float | None = None  # numeric features: applies when value >= at_least
    values: tuple[str, ...] = ()  # text features: applies when the value is one of these
    cap_grade: str

    @model_validator(mode="after")
    def _one_condition(self) -> Self:
        if (self.at_least is None) == (not self.values):
            raise ValueError("a veto has either at_least (numbers) or values (text)")
        return self


class IndicatorSystem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,62}$")
    version: str = Field(min_length=1, max_length=32)
    effective_from: date
    features_version: str
    name: str
    name_en: str
    grades: tuple[Grade, ...] = Field(min_length=2)
    data_depth: tuple[DepthLevel, ...] = Field(min_length=1)
    vetoes: tuple[Veto, ...] = ()
    dimensions: tuple[Dimension, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        mins = [g.min for g in self.grades]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins) or mins[-1] != 0:
            raise ValueError("grades go best first with decreasing min, the last at 0")
        names = [g.grade for g in self.grades]
        for veto in self.vetoes:
            if veto.cap_grade not in names:
                raise ValueError(f"veto {veto.code!r}: cap_grade {veto.cap_grade!r} is no grade")
        depth = [d.min_sources for d in self.data_depth]
        if depth != sorted(depth) or depth[0] != 0:
            raise ValueError("data_depth levels go thinnest first, from min_sources 0")
        codes = [i.code for d in self.dimensions for i in d.indicators]
        if len(set(codes)) != len(codes):
            raise ValueError("indicator codes must be unique")
        return self

    @property
    def indicators(self) -> list[Indicator]:
        return [i for d in self.dimensions for i in d.indicators]

    def feature_codes(self) -> list[str]:
        """The features the indicators and vetoes use, in first-use order."""
        codes = [i.feature for i in self.indicators] + [v.feature for v in self.vetoes]
        return list(dict.fromkeys(codes))

    def used_features(self, features: FeatureSet) -> FeatureSet:
        """``features`` reduced to those this system uses (what a run reads and stores)."""
        return features.select(self.feature_codes())

    def check_against(self, features: FeatureSet, *, source: str) -> None:
        """Every feature named exists, with a fitting kind, and the versions match."""
        if features.version != self.features_version:
            raise RatingFileError(
                f"{source}: the system needs features version {self.features_version!r}, "
                f"the feature file is {features.version!r}",
                file=source,
                field="features_version",
            )
        named = [
            (f"indicator {i.code!r}", i.feature, i.method != "status") for i in self.indicators
        ]
        named += [(f"veto {v.code!r}", v.feature, v.at_least is not None) for v in self.vetoes]
        for what, code, numeric in named:
            try:
                feature = features.get(code)
            except KeyError:
                raise RatingFileError(
                    f"{source}: {what} uses feature {code!r}, which the feature file "
                    "does not define",
                    file=source,
                    field="feature",
                ) from None
            if feature.numeric != numeric:
                need = "a number" if numeric else "a text value"
                raise RatingFileError(
                    f"{source}: {what} needs {need}; feature {code!r} is not",
                    file=source,
                    field="feature",
                )

    # ---- exact weights --------------------------------------------------------------------

    def coefficients(self) -> tuple[dict[str, int], int]:
        """Integer weight of each indicator's points, and the divisor D: the score is
        ``SCALE × Σ coefficient × points / D`` (the weighted mean of the dimensions' weighted
        means, with points out of 100)."""
        common = reduce(math.lcm, (d.indicator_weight for d in self.dimensions), 1)
        coeff = {
            i.code: d.weight * i.weight * (common // d.indicator_weight)
            for d in self.dimensions
            for i in d.indicators
        }
        divisor = sum(d.weight for d in self.dimensions) * common * 100
        return coeff, divisor


def parse_system(text: str, *, source: str) -> IndicatorSystem:
    return data_files.parse(text, IndicatorSystem, source=source, error=RatingFileError)


def load_system(path: Path | None = None) -> IndicatorSystem:
    """The operator's indicator-system file when given, else the shipped default."""
    return data_files.shipped_or_file(
        IndicatorSystem,
        shipped=DEFAULT_SYSTEM,
        path=path,
        what="the indicator-system file",
        error=RatingFileError,
    )


# ---- the computation ----------------------------------------------------------------------------


def points_column(code: str) -> str:
    return f"p_{code}"


def _points(indicator: Indicator, value: Any, *, as_of: date) -> Any:
    import ibis

    if indicator.method == "status":
        text = value.cast("string")
        cases = [(text == k, v) for k, v in indicator.statuses.items()]
        other = ibis.literal(indicator.other_points)
        result = ibis.cases(*cases, else_=other)
    else:
        number = value.cast("float64")
        if indicator.relative_to_year:
            number = ibis.literal(float(as_of.year)) - number
        cases = [(number <= b.max, b.points) for b in indicator.bands if b.max is not None]
        result = ibis.cases(*cases, else_=ibis.literal(indicator.bands[-1].points))
    if indicator.missing_points is not None:
        result = ibis.ifelse(value.isnull(), indicator.missing_points, result)
    return result.cast("int64")


def rating_table(system: IndicatorSystem, features: ir.Table, *, as_of: date) -> ir.Table:
    """Per entity: every indicator's points (``p_<code>``), the weighted integer total
    (``weighted``), the score (0–1000), the grade after vetoes, which vetoes applied (``veto``,
    the first that capped the grade) and the data depth (sources and level)."""
    import ibis

    coeff, divisor = system.coefficients()
    points = {
        points_column(i.code): _points(i, features[i.feature], as_of=as_of)
        for i in system.indicators
    }
    with_points = features.mutate(**points)
    weighted = reduce(
        lambda acc, term: acc + term,
        (with_points[points_column(i.code)] * coeff[i.code] for i in system.indicators),
    )
    t = with_points.mutate(weighted=weighted.cast("int64"))

    # grade by score: weighted × SCALE ≥ min × divisor, compared as integers
    rank_of = {g.grade: n for n, g in enumerate(system.grades)}
    by_score = ibis.cases(
        *[(t.weighted * SCALE >= g.min * divisor, n) for n, g in enumerate(system.grades[:-1])],
        else_=ibis.literal(len(system.grades) - 1),
    )
    # each veto caps the grade (a larger rank is a worse grade)
    capped = by_score
    first_veto: Any = ibis.null().cast("string")
    for veto in reversed(system.vetoes):
        value = t[veto.feature]
        if veto.at_least is not None:
            hit = value.cast("float64") >= veto.at_least
        else:
            hit = value.cast("string").isin(list(veto.values))
        hit = hit.fill_null(False)
        cap = rank_of[veto.cap_grade]
        capped = ibis.ifelse(hit & (capped < cap), cap, capped)
        first_veto = ibis.ifelse(hit, veto.code, first_veto)
    grade = ibis.cases(
        *[(capped == n, g.grade) for n, g in enumerate(system.grades)], else_=ibis.null()
    )
    depth = ibis.cases(
        *[
            (t[SOURCES_COLUMN] >= d.min_sources, d.level)
            for d in sorted(system.data_depth, key=lambda d: -d.min_sources)
        ],
        else_=ibis.literal(system.data_depth[0].level),
    )
    return t.mutate(
        score=(t.weighted.cast("float64") * SCALE) / divisor,
        grade=grade,
        veto=first_veto,
        data_sources=t[SOURCES_COLUMN],
        data_depth=depth,
    )
