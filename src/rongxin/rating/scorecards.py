"""The portable scorecard (可移植评分卡, E2): a JSON format any institution can write, and its
scoring as one engine-portable expression.

A scorecard is ``{"name", "version", "base_points", "variables": [...]}``; each variable is

* numerical: ``{"name", "type": "numerical", "bins": [{"upper": x, "points": p}, …,
  {"upper": null, "points": p}], "missing_points": p}`` — a value falls in the first bin with
  ``value < upper``; NULL and NaN are missing;
* categorical: ``{"name", "type": "categorical", "bins": [{"categories": [...], "points": p},
  …], "other_points": p, "missing_points": p}`` — values are compared as text; NULL, NaN and
  the empty string are missing, values in no bin get ``other_points``.

The score is ``Σ points + base_points``, the points added in the variables' order and then the
base: the same sum, in the same order, as optbinning's ``Scorecard.score``, so an exported card
gives the same scores to the last bit. :func:`scored_table` turns a card into one ibis
expression that runs unchanged on DuckDB and Spark (STYLE.md, "Analytics"); thresholds and
points enter the SQL as text cast to double, which every engine parses exactly.

Reason codes (拒绝理由): per row, the variables that lost most points against the most the
variable can give, worst first, ties broken by the variables' order.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
from collections.abc import Sequence
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, Self

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
from rongxin.rating.errors import ScorecardFileError, ScorecardInputError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

SCORE_COLUMN: Final = "score"
MAX_REASONS: Final = 20
_TAGS: Final = frozenset({"numerical", "categorical"})
#: up to this many categories a variable's CASE tests one category at a time (faster on DuckDB
#: than IN lists); more are tested with one IN list per bin
_EQUALITY_TESTS: Final = 64


def reason_column(rank: int) -> str:
    """The output column of the ``rank``-th reason code (1 = the worst)."""
    return f"reason_{rank}"


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
    root: yaml.Node | None = None
    with contextlib.suppress(yaml.YAMLError):  # valid JSON is not always YAML 1.1
        root = yaml.compose(text)  # (lines are then unknown)
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


# ---- the computation ----------------------------------------------------------------------------


def exact_float(value: float) -> Any:
    """A float64 literal that every engine parses to exactly ``value`` (SQL decimal literals
    may be read as DECIMAL and rounded on the way to DOUBLE; a cast from text is exact)."""
    import ibis

    if not math.isfinite(value):  # pragma: no cover - the spec forbids it
        raise ValueError(value)
    return ibis.literal(repr(float(value))).cast("float64")


def check_columns(spec: ScorecardSpec, table: ir.Table, *, source: str) -> None:
    """Every variable is a column of ``table``; numerical ones hold numbers."""
    columns = set(table.columns)
    missing = [name for name in spec.names if name not in columns]
    if missing:
        raise ScorecardInputError(
            f"{source}: no column {', '.join(repr(m) for m in missing)}, which scorecard "
            f"{spec.name!r} {spec.version} reads",
            file=source,
            columns=missing,
        )
    for variable in spec.variables:
        dtype = table[variable.name].type()
        if variable.type == "numerical" and (not dtype.is_numeric() or dtype.is_boolean()):
            raise ScorecardInputError(
                f"{source}: column {variable.name!r} holds {dtype}, but the scorecard's "
                f"variable {variable.name!r} is numerical: fix the column or make the "
                "variable categorical",
                file=source,
                column=variable.name,
            )


def _missing(column: Any) -> Any:
    missing = column.isnull()
    if column.type().is_floating():
        missing = missing | column.isnan()
    return missing


def _text(column: Any) -> Any:
    return column if column.type().is_string() else column.cast("string")


def _by_bin(
    variable: NumericalVariable | CategoricalVariable,
    table: ir.Table,
    values: Sequence[Any],
    *,
    missing_is_other: bool = False,
) -> Any:
    """One flat CASE giving ``values[position]`` for the bin each row falls in (positions as in
    :meth:`points_list`: the bins, missing, then other).

    The bins are tested first, then missing: NULL compares to nothing, NaN to nothing below an
    upper (IEEE; DuckDB and Spark order NaN above every number), and "" is no category — so
    the order gives the same answer as testing missing first, with fewer tests for most rows.
    When missing and other give the same value (``missing_is_other``), a text missing value
    simply falls to the else branch.
    """
    import ibis

    column = table[variable.name]
    k = len(variable.bins)
    if isinstance(variable, NumericalVariable):
        cases = [
            (column < exact_float(b.upper), values[n])
            for n, b in enumerate(variable.bins)
            if b.upper is not None
        ]
        return ibis.cases(*cases, (_missing(column), values[k]), else_=values[k - 1])
    text = _text(column)
    missing = (_missing(column), values[k]) if column.type().is_floating() else None
    if sum(len(b.categories) for b in variable.bins) <= _EQUALITY_TESTS:
        cases = [(text == c, values[n]) for n, b in enumerate(variable.bins) for c in b.categories]
    else:
        cases = [(text.isin(list(b.categories)), values[n]) for n, b in enumerate(variable.bins)]
    if missing is not None:  # NaN as text could look like a category: test it first
        return ibis.cases(missing, *cases, else_=values[k + 1])
    if missing_is_other:
        return ibis.cases(*cases, else_=values[k + 1])
    return ibis.cases(*cases, (column.isnull() | (text == ""), values[k]), else_=values[k + 1])


def bin_index(variable: NumericalVariable | CategoricalVariable, table: ir.Table) -> Any:
    """The bin a row falls in, as an integer: the bins by position, then missing, then (for
    categorical variables) other — the positions of :meth:`points_list` and ``labels``."""
    import ibis

    positions = [ibis.literal(n, type="int64") for n in range(len(variable.points_list()))]
    return _by_bin(variable, table, positions)


def variable_points(variable: NumericalVariable | CategoricalVariable, table: ir.Table) -> Any:
    """The points ``variable`` gives each row (float64)."""
    same = isinstance(variable, CategoricalVariable) and (
        variable.missing_points == variable.other_points
    )
    values = [exact_float(p) for p in variable.points_list()]
    return _by_bin(variable, table, values, missing_is_other=same)


def points_expressions(spec: ScorecardSpec, table: ir.Table) -> dict[str, Any]:
    """Each variable's points column, by variable name, in the card's order."""
    return {v.name: variable_points(v, table) for v in spec.variables}


def _total(spec: ScorecardSpec, points: Sequence[Any]) -> Any:
    """``Σ points + base_points``, left to right, then the base (optbinning's order)."""
    return reduce(lambda acc, p: acc + p, points) + exact_float(spec.base_points)


def score_expression(spec: ScorecardSpec, table: ir.Table) -> Any:
    """The score of each row of ``table`` (float64)."""
    return _total(spec, list(points_expressions(spec, table).values()))


def _points_column(n: int) -> str:
    return f"_rx_points_{n}"


def _loss_column(n: int) -> str:
    return f"_rx_loss_{n}"


def with_points(spec: ScorecardSpec, table: ir.Table) -> ir.Table:
    """``table`` with each variable's points (``_rx_points_<n>``) and the points it lost against
    the variable's maximum (``_rx_loss_<n>``, 0 or more) in columns of their own."""
    points = table.mutate(
        **{_points_column(n): variable_points(v, table) for n, v in enumerate(spec.variables)}
    )
    return points.mutate(
        **{
            _loss_column(n): exact_float(max_points(v)) - points[_points_column(n)]
            for n, v in enumerate(spec.variables)
        }
    )


def _chosen_column(rank: int) -> str:
    return f"_rx_reason_{rank}"


def with_reasons(spec: ScorecardSpec, table: ir.Table, *, count: int) -> ir.Table:
    """A table from :func:`with_points` with the positions of its ``count`` reason codes
    (``_rx_reason_<r>``): the variables that lost most points against their maximum, worst
    first, ties going to the earlier variable; NULL once no variable left lost any.

    Each rank takes the largest remaining loss and the first variable with it, then sets
    that variable's loss to −1 for the next ranks: ``count × variables`` tests in all."""
    import ibis

    masks = [_loss_column(n) for n in range(len(spec.variables))]
    for rank in range(1, count + 1):
        left = [table[m] for m in masks]
        best = left[0] if len(left) == 1 else ibis.greatest(*left)
        first = ibis.cases(*[(m == best, n) for n, m in enumerate(left)], else_=ibis.null("int64"))
        table = table.mutate(
            **{_chosen_column(rank): ibis.ifelse(best > 0, first, ibis.null("int64"))}
        )
        if rank == count:
            break
        chosen = table[_chosen_column(rank)]
        following = [f"_rx_left_{rank}_{n}" for n in range(len(masks))]
        table = table.mutate(
            **{
                name: ibis.ifelse(chosen == n, exact_float(-1.0), table[m])
                for n, (name, m) in enumerate(zip(following, masks, strict=True))
            }
        )
        masks = following
    return table


def reason_expressions(spec: ScorecardSpec, table: ir.Table, *, count: int) -> dict[str, Any]:
    """``reason_1`` … ``reason_<count>`` (variable names) over a table from
    :func:`with_reasons`."""
    import ibis

    out: dict[str, Any] = {}
    for rank in range(1, count + 1):
        chosen = table[_chosen_column(rank)]
        cases = [(chosen == n, v.name) for n, v in enumerate(spec.variables)]
        out[reason_column(rank)] = ibis.cases(*cases, else_=ibis.null("string"))
    return out


def scored_table(
    spec: ScorecardSpec, table: ir.Table, *, keep: Sequence[str] = (), reasons: int = 0
) -> ir.Table:
    """The columns ``keep`` (carried through), ``score`` and ``reason_1`` … ``reason_<reasons>``
    for every row of ``table``."""
    if not 0 <= reasons <= MAX_REASONS:
        raise ScorecardInputError(f"--reasons must be 0–{MAX_REASONS}, not {reasons}")
    reserved = {SCORE_COLUMN, *(reason_column(r + 1) for r in range(reasons))}
    clash = [k for k in keep if k in reserved]
    if clash:
        raise ScorecardInputError(
            f"column {clash[0]!r} cannot be carried through: the output has its own "
            f"{clash[0]!r}; rename it"
        )
    staged = with_points(spec, table)
    if reasons:
        staged = with_reasons(spec, staged, count=reasons)
    points = [staged[_points_column(n)] for n in range(len(spec.variables))]
    columns: dict[str, Any] = {k: staged[k] for k in keep}
    columns[SCORE_COLUMN] = _total(spec, points)
    columns.update(reason_expressions(spec, staged, count=reasons))
    return staged.select(**columns)


# ---- inputs --------------------------------------------------------------------------------------

INPUT_SUFFIXES: Final = (".parquet", ".csv")
#: the types DuckDB may guess for a CSV column: numbers, else the text as written (DuckDB would
#: read "yes"/"no" as booleans, Spark keeps them as text; dates stay text too)
CSV_TYPE_CANDIDATES: Final = ("BIGINT", "DOUBLE", "VARCHAR")


def load_input(con: BaseBackend, path: Path, *, name: str = "scorecard_input") -> ir.Table:
    """The data file ``path`` (Parquet or CSV) as a table on ``con``, or a clear error naming
    the file."""
    from rongxin.rating import engines

    if path.suffix.lower() not in INPUT_SUFFIXES:
        raise ScorecardInputError(
            f"{path}: read Parquet (.parquet) or CSV (.csv) files", file=str(path)
        )
    if not path.is_file():
        raise ScorecardInputError(f"{path}: no such file", file=str(path))
    try:
        if path.suffix.lower() == ".csv" and con.name == "duckdb":
            table = con.read_csv(
                path, table_name=name, auto_type_candidates=list(CSV_TYPE_CANDIDATES)
            )
        else:
            table = engines.load(con, name, path)
        table.columns  # noqa: B018 - the schema is read now, so a broken file fails here
    except Exception as exc:  # the engines raise their own error types
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScorecardInputError(
            f"{path}: cannot read the file: {reason}", file=str(path)
        ) from exc
    return table
