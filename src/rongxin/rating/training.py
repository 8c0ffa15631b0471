"""Training a statistical scorecard (统计评分卡) on loan outcomes, from any CSV or Parquet file.

1. The file is read through the analytics engine (DuckDB), so training sees every value exactly
   as scoring will: numbers as float64, categories as the text the scorecard compares.
2. A stratified split keeps ``test_size`` of the rows out of training.
3. optbinning bins every variable (optimal binning; monotonic trends for numbers), turns bins
   into WoE, fits a logistic regression and scales it to points (PDO/odds).
4. The fitted card is exported to the portable spec (:mod:`rongxin.rating.scorecards`), and the
   spec — not optbinning — scores the held-out rows: AUC, KS and Gini are the card's own. The
   export is checked against ``Scorecard.score`` on those rows (1e-6 points).
5. The development sample's distributions are kept for stability monitoring (PSI).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pyarrow as pa

from rongxin.rating import engines, stability
from rongxin.rating.errors import ScorecardInputError, TrainingError
from rongxin.rating.schemas import Metrics, TrainingOptions, TrainingResult
from rongxin.rating.scorecard_scoring import SCORE_COLUMN, load_input, scored_table
from rongxin.rating.scorecards import (
    CategoricalBin,
    CategoricalVariable,
    NumericalBin,
    NumericalVariable,
    ScorecardSpec,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

EXPORT_TOLERANCE: Final = 1e-6
_CHUNK: Final = 1 << 20


@dataclass(frozen=True)
class TrainedScorecard:
    """The result, with what produced it (for tests and callers that check the export)."""

    result: TrainingResult
    scorecard: Any  # optbinning.scorecard.Scorecard, fitted
    frame: Any  # pandas.DataFrame: the variables as trained on (every row)
    target: np.ndarray[Any, Any]  # 1 = bad
    train_index: np.ndarray[Any, Any]
    test_index: np.ndarray[Any, Any]


def fingerprint(path: Path, *, target: str, bad: str) -> str:
    """sha256 of the file's bytes, the target column and the bad value."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    digest.update(b"\x00target\x00" + target.encode() + b"\x00bad\x00" + bad.encode())
    return digest.hexdigest()


# ---- the data ------------------------------------------------------------------------------------


def _target(table: pa.Table, *, column: str, bad: str, source: str) -> np.ndarray[Any, Any]:
    values = table.column(column)
    if values.null_count:
        first = values.is_null().to_numpy(zero_copy_only=False).nonzero()[0][0]
        raise ScorecardInputError(
            f"{source}: target column {column!r} is empty in {values.null_count} rows (the "
            f"first is data row {first + 1}); drop those rows or give them an outcome",
            file=source,
            column=column,
        )
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        try:
            wanted = float(bad)
        except ValueError:
            raise ScorecardInputError(
                f"{source}: target column {column!r} holds numbers; --bad {bad!r} is not one",
                file=source,
                column=column,
            ) from None
        y = values.to_numpy(zero_copy_only=False).astype("float64") == wanted
    else:
        text = values.cast(pa.string()).to_numpy(zero_copy_only=False)
        y = text == bad
    seen = sorted({str(v) for v in values.unique().to_pylist()})
    if not y.any():
        raise ScorecardInputError(
            f"{source}: no row has {column} = {bad!r} (the bad value); the column holds "
            f"{', '.join(repr(v) for v in seen[:10])}",
            file=source,
            column=column,
        )
    if y.all():
        raise ScorecardInputError(
            f"{source}: every row has {column} = {bad!r}; a scorecard needs good and bad outcomes",
            file=source,
            column=column,
        )
    out: np.ndarray[Any, Any] = np.asarray(y, dtype="int64")
    return out


def _variables(
    table: ir.Table, options: TrainingOptions, *, source: str
) -> tuple[list[str], list[str]]:
    """The numerical and the categorical variables: every column but the target and the
    excluded ones; numbers are numerical unless named categorical; text and booleans are
    categorical."""
    columns = list(table.columns)
    for what, names in (("--exclude", options.exclude), ("--categorical", options.categorical)):
        unknown = [n for n in names if n not in columns]
        if unknown:
            raise ScorecardInputError(
                f"{source}: {what} names no column {', '.join(repr(u) for u in unknown)}; the "
                f"file has {', '.join(columns)}",
                file=source,
                columns=unknown,
            )
    numerical: list[str] = []
    categorical: list[str] = []
    for name in columns:
        if name == options.target or name in options.exclude:
            continue
        dtype = table[name].type()
        if name in options.categorical or dtype.is_string() or dtype.is_boolean():
            categorical.append(name)
        elif dtype.is_numeric():
            numerical.append(name)
        else:
            raise ScorecardInputError(
                f"{source}: column {name!r} holds {dtype}, which a scorecard cannot bin; "
                "leave it out with --exclude or convert it to a number or text",
                file=source,
                column=name,
            )
    if not numerical and not categorical:
        raise ScorecardInputError(f"{source}: no columns to train on besides the target")
    return numerical, categorical


def _model_frame(
    con: BaseBackend, table: ir.Table, *, numerical: list[str], categorical: list[str], target: str
) -> pa.Table:
    """The variables as scoring sees them: numbers as float64 (NULL and NaN missing), categories
    as their text (NULL, NaN and "" missing)."""
    import ibis

    columns: dict[str, Any] = {}
    for name in [c for c in table.columns if c in numerical or c in categorical]:
        column = table[name]
        if name in numerical:
            columns[name] = column.cast("float64")
            continue
        text = column if column.type().is_string() else column.cast("string")
        missing = column.isnull() | (text == "")
        if column.type().is_floating():
            missing = missing | column.isnan()
        columns[name] = ibis.ifelse(missing, ibis.null("string"), text)
    columns[target] = table[target]
    return engines.collect(con, table.select(**columns))


# ---- optbinning ----------------------------------------------------------------------------------


def _fit(
    frame: Any,
    y: np.ndarray[Any, Any],
    *,
    numerical: list[str],
    categorical: list[str],
    options: TrainingOptions,
) -> Any:
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    variables = [c for c in frame.columns if c in numerical or c in categorical]
    trend = None if options.monotonic_trend == "none" else options.monotonic_trend
    fit_params: dict[str, dict[str, Any]] = {name: {"monotonic_trend": trend} for name in numerical}
    binning: dict[str, Any] = {}
    if options.max_n_bins is not None:
        binning["max_n_bins"] = options.max_n_bins
    process = BinningProcess(
        variable_names=variables,
        categorical_variables=categorical,
        binning_fit_params=fit_params,
        **binning,
    )
    scorecard = Scorecard(
        binning_process=process,
        estimator=LogisticRegression(C=options.logistic_c, max_iter=1000),
        scaling_method="pdo_odds",
        scaling_method_params={
            "pdo": options.pdo,
            "odds": options.odds,
            "scorecard_points": options.scorecard_points,
        },
        rounding=options.rounding,
    )
    try:
        scorecard.fit(frame[variables], y)
    except (ValueError, RuntimeError) as exc:
        raise TrainingError(f"optbinning could not fit the scorecard: {exc}") from exc
    return scorecard


def export_spec(scorecard: Any, *, name: str, version: str) -> ScorecardSpec:
    """The portable spec of a fitted optbinning ``Scorecard``, from its detailed table.

    Per variable the table has the bins, then a Special row (unused: no special codes are set)
    and a Missing row. Numerical thresholds come from the binned variable's exact splits (the
    table shows them rounded); categorical bins list their categories. optbinning scores a
    category it has not seen with the Missing row's points, so ``other_points`` is that too.
    """
    table = scorecard.table(style="detailed")
    process = scorecard.binning_process_
    variables: list[NumericalVariable | CategoricalVariable] = []
    for variable in process.get_support(names=True):
        rows = table[table["Variable"] == variable].sort_values("Bin id")
        labels = list(rows["Bin"])
        points = [float(p) for p in rows["Points"]]
        if len(labels) < 3 or labels[-2] != "Special" or labels[-1] != "Missing":
            raise TrainingError(
                f"variable {variable!r}: unexpected optbinning table (special codes are not "
                "portable; train without them)"
            )
        n_bins = len(labels) - 2
        missing = points[-1]
        binned = process.get_binned_variable(variable)
        if binned.dtype == "numerical":
            splits = [float(s) for s in binned.splits]
            if len(splits) + 1 != n_bins:
                raise TrainingError(
                    f"variable {variable!r}: {len(splits)} splits for {n_bins} bins"
                )
            bins = [NumericalBin(upper=u, points=p) for u, p in zip(splits, points, strict=False)]
            bins.append(NumericalBin(upper=None, points=points[n_bins - 1]))
            variables.append(
                NumericalVariable(
                    name=variable, type="numerical", bins=tuple(bins), missing_points=missing
                )
            )
            continue
        cat_bins = [
            CategoricalBin(categories=tuple(str(c) for c in labels[n]), points=points[n])
            for n in range(n_bins)
            if len(labels[n])
        ]
        if not cat_bins:
            raise TrainingError(f"variable {variable!r}: no categories were binned")
        variables.append(
            CategoricalVariable(
                name=variable,
                type="categorical",
                bins=tuple(cat_bins),
                other_points=missing,
                missing_points=missing,
            )
        )
    return ScorecardSpec(
        name=name,
        version=version,
        base_points=float(scorecard.intercept_),
        variables=tuple(variables),
    )


# ---- metrics -----------------------------------------------------------------------------------


def metrics(
    y_test: np.ndarray[Any, Any], scores: np.ndarray[Any, Any], *, y_train: np.ndarray[Any, Any]
) -> Metrics:
    """AUC, KS and Gini of ``scores`` (higher is better: fewer bads) against the outcomes."""
    from sklearn.metrics import roc_auc_score, roc_curve

    risk = -scores
    auc = float(roc_auc_score(y_test, risk))
    fpr, tpr, _ = roc_curve(y_test, risk)
    return Metrics(
        auc=auc,
        ks=float(np.max(tpr - fpr)),
        gini=2 * auc - 1,
        rows=int(y_test.size),
        bads=int(y_test.sum()),
        bad_rate=float(y_test.mean()),
        train_rows=int(y_train.size),
        train_bad_rate=float(y_train.mean()),
    )


def _spec_scores(spec: ScorecardSpec, frame: pa.Table) -> np.ndarray[Any, Any]:
    con = engines.connect(engines.Engine.duckdb)
    try:
        table = engines.load(con, "scorecard_heldout", frame)
        out = engines.collect(con, scored_table(spec, table).select(SCORE_COLUMN))
    finally:
        con.disconnect()
    scores: np.ndarray[Any, Any] = np.asarray(
        out.column(SCORE_COLUMN).to_numpy(zero_copy_only=False), dtype="float64"
    )
    return scores


# ---- training ----------------------------------------------------------------------------------


def train_scorecard(path: Path, *, options: TrainingOptions) -> TrainedScorecard:
    """Train a scorecard on the CSV or Parquet file ``path`` (see the module's steps)."""
    from sklearn.model_selection import train_test_split

    source = str(path)
    con = engines.connect(engines.Engine.duckdb)
    try:
        table = load_input(con, path, name="scorecard_training")
        if options.target not in table.columns:
            raise ScorecardInputError(
                f"{source}: no target column {options.target!r}; the file has "
                f"{', '.join(table.columns)}",
                file=source,
                column=options.target,
            )
        numerical, categorical = _variables(table, options, source=source)
        try:
            data = _model_frame(
                con, table, numerical=numerical, categorical=categorical, target=options.target
            )
        except ScorecardInputError:
            raise
        except Exception as exc:  # the engine found a bad value while reading
            raise ScorecardInputError(
                f"{source}: cannot read the file: {exc}", file=source
            ) from exc
    finally:
        con.disconnect()
    y = _target(data, column=options.target, bad=options.bad, source=source)
    frame = data.drop_columns([options.target]).to_pandas()
    try:
        train_index, test_index = train_test_split(
            np.arange(len(y)), test_size=options.test_size, random_state=options.seed, stratify=y
        )
    except ValueError as exc:
        raise TrainingError(f"{source}: cannot split {len(y)} rows for training: {exc}") from exc
    train_index = np.sort(train_index)
    test_index = np.sort(test_index)
    train, test = frame.iloc[train_index], frame.iloc[test_index]
    scorecard = _fit(
        train, y[train_index], numerical=numerical, categorical=categorical, options=options
    )
    spec = export_spec(scorecard, name=options.name, version=options.version)

    held_out = pa.Table.from_pandas(test, preserve_index=False)
    scores = _spec_scores(spec, held_out)
    reference_scores = np.asarray(scorecard.score(test), dtype="float64")
    diff = float(np.max(np.abs(scores - reference_scores))) if scores.size else 0.0
    if not diff <= EXPORT_TOLERANCE:
        raise TrainingError(  # pragma: no cover - a bug in the export, never the data
            f"the exported scorecard differs from optbinning's by {diff} points on the "
            "held-out rows; please report this"
        )
    con = engines.connect(engines.Engine.duckdb)
    try:
        development = engines.load(
            con, "scorecard_development", pa.Table.from_pandas(train, preserve_index=False)
        )
        reference = stability.build_reference(con, spec, development, bands=options.score_bands)
    finally:
        con.disconnect()
    result = TrainingResult(
        spec=spec,
        metrics=metrics(y[test_index], scores, y_train=y[train_index]),
        fingerprint=fingerprint(path, target=options.target, bad=options.bad),
        reference=reference,
        options=options,
        variables={v: ("numerical" if v in numerical else "categorical") for v in spec.names},
        export_max_abs_diff=diff,
    )
    return TrainedScorecard(
        result=result,
        scorecard=scorecard,
        frame=frame,
        target=y,
        train_index=train_index,
        test_index=test_index,
    )
