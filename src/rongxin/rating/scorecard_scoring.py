"""Portable scorecards as engine-portable expressions: a card (``rongxin.rating.scorecards``)
turned into one ibis expression per score, points, bins and reason codes, run on DuckDB or
Spark (``rongxin.rating.engines``), and reading the files they score.

Cut-offs and points are bound as the exact decimal text of the double (an integer column is
compared with integers, the same test) and the points are added in optbinning's order, so
exported cards give the same scores to the last bit. A numerical variable is a CASE over its
bins; a categorical one, one lookup in a map from category to points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from rongxin.rating.errors import ScorecardInputError
from rongxin.rating.scorecards import (
    CategoricalVariable,
    NumericalVariable,
    ScorecardSpec,
    max_points,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

SCORE_COLUMN: Final = "score"
MAX_REASONS: Final = 20
#: every integer below this in magnitude is exactly a float64
_EXACT_INTEGERS: Final = 2**53


def reason_column(rank: int) -> str:
    """The output column of the ``rank``-th reason code (1 = the worst)."""
    return f"reason_{rank}"


# ---- the computation ----------------------------------------------------------------------------


def exact_float(value: float) -> Any:
    """A float64 literal that every engine parses to exactly ``value`` (SQL decimal literals
    may be read as DECIMAL and rounded on the way to DOUBLE; a cast from text is exact)."""
    import ibis

    if not math.isfinite(value):  # pragma: no cover - the spec forbids it
        raise ValueError(value)
    return ibis.literal(repr(float(value))).cast("float64")


def _below(column: Any, upper: float) -> Any:
    """``column < upper`` as optbinning tests it, the column read as float64 (exactly).

    An integer column is compared with the integer ``ceil(upper)`` while ``|upper| < 2**53``:
    the same test (every integer of that size is a double, and larger ones are on the same
    side of both), without making each row a double first (DuckDB scores 8 % faster)."""
    import ibis

    if column.type().is_integer() and abs(upper) < _EXACT_INTEGERS:
        return column < ibis.literal(math.ceil(upper), type="int64")
    return column < exact_float(upper)


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
    """``values[position]`` for the bin each row falls in (positions as in
    :meth:`points_list`: the bins, missing, then other).

    A numerical variable is one flat CASE: the bins are tested first, then missing (NULL
    compares to nothing, NaN to nothing below an upper — IEEE; DuckDB and Spark order NaN above
    every number), so the order gives the same answer as testing missing first, with fewer
    tests for most rows. A categorical variable is one lookup of the text in a map from each
    category to its value (:func:`engines.map_value`), "" mapped to missing; a NULL text or a
    category in no bin finds nothing. When missing and other give the same value
    (``missing_is_other``), both are simply what nothing found gives.
    """
    import ibis

    column = table[variable.name]
    k = len(variable.bins)
    if isinstance(variable, NumericalVariable):
        cases = [
            (_below(column, b.upper), values[n])
            for n, b in enumerate(variable.bins)
            if b.upper is not None
        ]
        return ibis.cases(*cases, (_missing(column), values[k]), else_=values[k - 1])
    return _category_value(variable, column, values, missing_is_other=missing_is_other)


def _category_value(
    variable: CategoricalVariable, column: Any, values: Sequence[Any], *, missing_is_other: bool
) -> Any:
    """:func:`_by_bin` for a categorical variable: one map lookup of the column's text."""
    import ibis

    from rongxin.rating import engines

    k = len(variable.bins)
    keys: list[str] = []
    found: list[Any] = []
    for n, b in enumerate(variable.bins):
        keys.extend(b.categories)
        found.extend(values[n] for _ in b.categories)
    if not missing_is_other:
        keys.append("")  # no category: the spec forbids empty ones
        found.append(values[k])
    mapping = ibis.map(
        ibis.array([ibis.literal(key, type="string") for key in keys]), ibis.array(found)
    )
    value = engines.map_value(mapping, _text(column)).coalesce(values[k + 1])
    if column.type().is_floating():  # NaN as text could look like a category: test it first
        return ibis.ifelse(_missing(column), values[k], value)
    if missing_is_other:
        return value
    return ibis.ifelse(column.isnull(), values[k], value)


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
    for every row of ``table`` (without reasons, one projection: the points are summed where
    they are computed)."""
    if not 0 <= reasons <= MAX_REASONS:
        raise ScorecardInputError(f"--reasons must be 0–{MAX_REASONS}, not {reasons}")
    reserved = {SCORE_COLUMN, *(reason_column(r + 1) for r in range(reasons))}
    clash = [k for k in keep if k in reserved]
    if clash:
        raise ScorecardInputError(
            f"column {clash[0]!r} cannot be carried through: the output has its own "
            f"{clash[0]!r}; rename it"
        )
    if not reasons:
        return table.select(*keep, **{SCORE_COLUMN: score_expression(spec, table)})
    staged = with_reasons(spec, with_points(spec, table), count=reasons)
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
        table = engines.load(con, name, path, csv_types=CSV_TYPE_CANDIDATES)
        table.columns  # noqa: B018 - the schema is read now, so a broken file fails here
    except Exception as exc:  # the engines raise their own error types
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScorecardInputError(
            f"{path}: cannot read the file: {reason}", file=str(path)
        ) from exc
    return table
