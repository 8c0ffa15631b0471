"""The portable scorecard (可移植评分卡, E2): a JSON format any institution can write, read and
written with errors that name the file, line and field. Scoring a card is
``rongxin.rating.scorecard_scoring``.

A scorecard is ``{"name", "version", "base_points", "variables": [...]}``; each variable is

* numerical: ``{"name", "type": "numerical", "bins": [{"upper": x, "points": p}, …,
  {"upper": null, "points": p}], "missing_points": p}`` — a value falls in the first bin with
  ``value < upper``; NULL and NaN are missing;
* categorical: ``{"name", "type": "categorical", "bins": [{"categories": [...], "points": p},
  …], "other_points": p, "missing_points": p}`` — values are compared as text; NULL, NaN and
  the empty string are missing, values in no bin get ``other_points``.

The score is ``Σ points + base_points``, the points added in the variables' order and then the
base: the same sum, in the same order, as optbinning's ``Scorecard.score``, so an exported card
gives the same scores to the last bit. ``scorecard_scoring.scored_table`` turns a card
into one ibis expression that runs unchanged on DuckDB and Spark (STYLE.md, "Analytics");
thresholds and points enter the SQL as text cast to double, which every engine parses exactly
(an integer column is compared with whole-number thresholds: the same test).

Reason codes (拒绝理由): per row, the variables that lost most points against the most the
variable can give, worst first, ties broken by the variables' order.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from rongxin.kit import data_files
from rongxin.rating.errors import ScorecardFileError

_TAGS: Final = frozenset({"numerical", "categorical"})


def _category_text(value: Any) -> Any:
    """Categories are text; whole numbers are accepted and read as their decimal text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Category = Annotated[str, BeforeValidator(_category_text), Field(min_length=1, max_length=500)]


class NumericalBin(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    upper: float | None = Field(description="values below this fall in the bin; null: the rest")
    points: float


class NumericalVariable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=200)
    type: Literal["numerical"]
    bins: tuple[NumericalBin, ...] = Field(min_length=1)
    missing_points: float

    @field_validator("bins")
    @classmethod
    def _uppers(cls, bins: tuple[NumericalBin, ...]) -> tuple[NumericalBin, ...]:
        *inner, last = bins
        if last.upper is not None:
            raise ValueError('the last bin must have "upper": null (it takes every larger value)')
        if any(b.upper is None for b in inner):
            raise ValueError('only the last bin has "upper": null')
        uppers = [b.upper for b in inner if b.upper is not None]
        for n, (a, b) in enumerate(itertools.pairwise(uppers), start=1):
            if not b > a:
                raise ValueError(f"bin uppers must increase strictly: bin {n} has {b} after {a}")
        return bins

    def points_list(self) -> list[float]:
        return [b.points for b in self.bins] + [self.missing_points]

    def labels(self) -> list[str]:
        """One label per bin index (the bins, then ``missing``)."""
        out: list[str] = []
        lower: float | None = None
        for b in self.bins:
            low = "-inf" if lower is None else repr(lower)
            high = "inf" if b.upper is None else repr(b.upper)
            out.append(f"[{low}, {high})")
            lower = b.upper
        return [*out, "missing"]


class CategoricalBin(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    categories: tuple[Category, ...] = Field(min_length=1)
    points: float


class CategoricalVariable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=200)
    type: Literal["categorical"]
    bins: tuple[CategoricalBin, ...] = Field(min_length=1)
    other_points: float
    missing_points: float

    @field_validator("bins")
    @classmethod
    def _disjoint(cls, bins: tuple[CategoricalBin, ...]) -> tuple[CategoricalBin, ...]:
        seen: dict[str, int] = {}
        for n, b in enumerate(bins):
            for c in b.categories:
                if c in seen:
                    where = "twice in bin" if seen[c] == n else f"in bins {seen[c]} and"
                    raise ValueError(f"category {c!r} is {where} {n}: bins must be disjoint")
                seen[c] = n
        return bins

    def points_list(self) -> list[float]:
        return [b.points for b in self.bins] + [self.missing_points, self.other_points]

    def labels(self) -> list[str]:
        """One label per bin index (the bins, then ``missing``, then ``other``)."""
        return [",".join(b.categories) for b in self.bins] + ["missing", "other"]


Variable = Annotated[NumericalVariable | CategoricalVariable, Field(discriminator="type")]


class ScorecardSpec(BaseModel):
    """A portable scorecard; score = ``Σ points + base_points``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=100)
    version: str = Field(min_length=1, max_length=32)
    base_points: float
    variables: tuple[Variable, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [v.name for v in self.variables]
        for n, name in enumerate(names):
            if name in names[:n]:
                raise ValueError(
                    f"variable {name!r} is defined twice (variables {names.index(name)} and {n})"
                )
        return self

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]


def max_points(variable: NumericalVariable | CategoricalVariable) -> float:
    """The most points the variable can give (over its bins, missing and other)."""
    return max(variable.points_list())


# ---- the file format ----------------------------------------------------------------------------


def _location(loc: Sequence[int | str]) -> list[int | str]:
    """A validation error's path without pydantic's union tags (``variables.3.bins``)."""
    parts = list(loc)
    if len(parts) > 2 and parts[0] == "variables" and parts[2] in _TAGS:
        del parts[2]
    return [p for p in parts if not (isinstance(p, str) and p.startswith("function"))]


def parse_scorecard(text: str, *, source: str) -> ScorecardSpec:
    """Parse a scorecard's JSON (or YAML) text; every problem names the file, line and field
    (``ScorecardFileError(message, problems=[{file, line, field, reason}, …])``)."""
    data: Any
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScorecardFileError(
                f"{source}:{exc.lineno}: not valid JSON: {exc.msg} (column {exc.colno})",
                file=source,
                line=exc.lineno,
            ) from exc
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{source}:{mark.line + 1}" if mark else source
            raise ScorecardFileError(
                f"{where}: not valid JSON or YAML: {exc}", file=source
            ) from exc
    if not isinstance(data, dict):
        raise ScorecardFileError(
            f'{source}: a scorecard is an object {{"name", "version", "base_points", "variables"}}',
            file=source,
        )
    try:
        return ScorecardSpec.model_validate(data)
    except ValidationError as exc:
        root: yaml.Node | None = None  # the lines, read only for the message
        with contextlib.suppress(yaml.YAMLError):  # valid JSON is not always YAML 1.1
            root = yaml.compose(text)  # (lines are then unknown)
        problems = []
        for err in exc.errors():
            loc = _location(err["loc"])
            line = data_files.node_line(root, loc) if root is not None else None
            field = ".".join(str(p) for p in loc) or "(top)"
            problems.append({"file": source, "line": line, "field": field, "reason": err["msg"]})
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        where = f"{source}:{first['line']}" if first["line"] is not None else source
        raise ScorecardFileError(
            f"{where}: {first['field']}: {first['reason']}{more}", problems=problems
        ) from exc


def load_scorecard(path: Path) -> ScorecardSpec:
    """A scorecard file (JSON)."""
    text = data_files.read_text(path, what="the scorecard file", error=ScorecardFileError)
    return parse_scorecard(text, source=str(path))


def dump_scorecard(spec: ScorecardSpec) -> str:
    """The portable JSON of ``spec`` (floats written exactly; reads back to the same card)."""
    return json.dumps(spec.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
