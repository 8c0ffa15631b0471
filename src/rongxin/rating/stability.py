"""Scorecard stability (模型稳定性监测): the population stability index (PSI) of the score and
of every variable, a current sample against the development sample.

``PSI = Σ (c − r) · ln(c / r)`` over the bins, with ``r`` and ``c`` the reference and current
shares, each smoothed with ``epsilon`` (``(share + ε) / (1 + kε)``) so that an empty bin does
not divide by zero; identical samples give exactly 0. Scores are binned into bands cut at the
development sample's quantiles, variables into the scorecard's own bins (plus missing and
other). Counting runs as one engine-portable aggregate (DuckDB or Spark), so a sample of any
size is measured where it lies.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rongxin.kit import data_files
from rongxin.rating import engines
from rongxin.rating.errors import ScorecardFileError, ScorecardInputError
from rongxin.rating.schemas import (
    BinCounts,
    PsiBin,
    PsiLevel,
    PsiResult,
    PsiThresholds,
    ScoreBands,
    ScorecardReference,
    StabilityReport,
)
from rongxin.rating.scorecard_scoring import (
    SCORE_COLUMN,
    bin_index,
    exact_float,
    score_expression,
    scored_table,
)
from rongxin.rating.scorecards import ScorecardSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

_ORDER = {PsiLevel.stable: 0, PsiLevel.watch: 1, PsiLevel.alert: 2}


def load_thresholds(path: Path | None = None) -> PsiThresholds:
    """The operator's thresholds file (YAML or JSON: ``watch``, ``alert``, ``epsilon``) when
    given, else the defaults (0.1 watch, 0.25 alert)."""
    if path is None:
        return PsiThresholds()
    text = data_files.read_text(path, what="the PSI thresholds file", error=ScorecardFileError)
    return data_files.parse(text, PsiThresholds, source=str(path), error=ScorecardFileError)


def psi_bins(
    reference: Sequence[int], current: Sequence[int], *, epsilon: float
) -> tuple[float, list[tuple[float, float, float]]]:
    """PSI of two count vectors over the same bins, and per bin (reference share, current share,
    contribution)."""
    if len(reference) != len(current) or not reference:
        raise ValueError("reference and current need the same, non-empty bins")
    k = len(reference)
    ref_total, cur_total = sum(reference), sum(current)
    if ref_total <= 0 or cur_total <= 0:
        raise ScorecardInputError("PSI needs rows in both the reference and the current sample")
    out: list[tuple[float, float, float]] = []
    total = 0.0
    for r_count, c_count in zip(reference, current, strict=True):
        r = (r_count / ref_total + epsilon) / (1 + k * epsilon)
        c = (c_count / cur_total + epsilon) / (1 + k * epsilon)
        part = (c - r) * math.log(c / r)
        out.append((r_count / ref_total, c_count / cur_total, part))
        total += part
    return total, out


def psi_result(
    name: str, reference: BinCounts, current: Sequence[int], thresholds: PsiThresholds
) -> PsiResult:
    value, parts = psi_bins(reference.counts, current, epsilon=thresholds.epsilon)
    value = max(value, 0.0)  # every term is ≥ 0; guard the last bit of rounding
    return PsiResult(
        name=name,
        psi=value,
        level=thresholds.level(value),
        bins=[
            PsiBin(label=label, reference_share=r, current_share=c, contribution=part)
            for label, (r, c, part) in zip(reference.labels, parts, strict=True)
        ],
    )


def _band(score: Any, uppers: Sequence[float]) -> Any:
    import ibis

    cases = [(score < exact_float(u), n) for n, u in enumerate(uppers)]
    last = ibis.literal(len(uppers))
    return (ibis.cases(*cases, else_=last) if cases else last).cast("int64")


def count_bins(
    con: BaseBackend, spec: ScorecardSpec, table: ir.Table, *, score_uppers: Sequence[float]
) -> tuple[int, list[int], dict[str, list[int]]]:
    """Rows, the score-band counts and every variable's bin counts of ``table``, in one pass."""
    score = score_expression(spec, table)
    band = _band(score, score_uppers)
    aggregates: dict[str, Any] = {"rows": table.count()}
    for n in range(len(score_uppers) + 1):
        aggregates[f"s{n}"] = table.count(where=band == n)
    indexes = {v.name: bin_index(v, table) for v in spec.variables}
    for j, v in enumerate(spec.variables):
        for n in range(len(v.labels())):
            aggregates[f"v{j}_{n}"] = table.count(where=indexes[v.name] == n)
    row = engines.collect(con, table.aggregate(**aggregates)).to_pylist()[0]
    scores = [int(row[f"s{n}"]) for n in range(len(score_uppers) + 1)]
    variables = {
        v.name: [int(row[f"v{j}_{n}"]) for n in range(len(v.labels()))]
        for j, v in enumerate(spec.variables)
    }
    return int(row["rows"]), scores, variables


def score_uppers(scores: np.ndarray[Any, Any], *, bands: int) -> list[float]:
    """Band uppers at the scores' quantiles (fewer bands when scores repeat)."""
    finite = scores[np.isfinite(scores)]
    if finite.size == 0:
        raise ScorecardInputError("no scores to cut into bands")
    cuts = np.quantile(finite, [n / bands for n in range(1, bands)], method="higher")
    uppers = sorted({float(c) for c in cuts})
    lowest = float(finite.min())
    return [u for u in uppers if u > lowest]


def build_reference(
    con: BaseBackend, spec: ScorecardSpec, table: ir.Table, *, bands: int = 10
) -> ScorecardReference:
    """The development sample's score bands (cut at its quantiles) and bin counts."""
    scores = engines.collect(con, scored_table(spec, table).select(SCORE_COLUMN))
    values = scores.column(SCORE_COLUMN).to_numpy(zero_copy_only=False).astype("float64")
    uppers = score_uppers(values, bands=bands)
    rows, score_counts, variable_counts = count_bins(con, spec, table, score_uppers=uppers)
    return ScorecardReference(
        rows=rows,
        score=ScoreBands(labels=_band_labels(uppers), counts=score_counts, uppers=uppers),
        variables={
            v.name: BinCounts(labels=v.labels(), counts=variable_counts[v.name])
            for v in spec.variables
        },
    )


def _band_labels(uppers: Sequence[float]) -> list[str]:
    edges = ["-inf", *(f"{u:.6g}" for u in uppers), "inf"]
    return [f"[{a}, {b})" for a, b in itertools.pairwise(edges)]


def stability_report(
    con: BaseBackend,
    spec: ScorecardSpec,
    reference: ScorecardReference,
    table: ir.Table,
    *,
    thresholds: PsiThresholds | None = None,
) -> StabilityReport:
    """PSI of ``table`` (the current sample) against ``reference``, by score band and by
    variable, with the levels and alerts the thresholds give."""
    thresholds = thresholds or PsiThresholds()
    missing = [v.name for v in spec.variables if v.name not in reference.variables]
    if missing:
        raise ScorecardInputError(
            f"the reference has no distribution of {', '.join(missing)}: it was built for "
            "another scorecard; rebuild it from the development sample"
        )
    for v in spec.variables:
        if reference.variables[v.name].labels != v.labels():
            raise ScorecardInputError(
                f"the reference's bins of {v.name!r} differ from scorecard {spec.name!r} "
                f"{spec.version}: rebuild the reference for this version"
            )
    rows, score_counts, variable_counts = count_bins(
        con, spec, table, score_uppers=reference.score.uppers
    )
    score = psi_result(SCORE_COLUMN, reference.score, score_counts, thresholds)
    variables = [
        psi_result(v.name, reference.variables[v.name], variable_counts[v.name], thresholds)
        for v in spec.variables
    ]
    flagged = sorted(
        (r for r in [score, *variables] if r.level is not PsiLevel.stable),
        key=lambda r: -r.psi,
    )
    alerts = [
        f"{'score' if r is score else f'variable {r.name!r}'}: PSI {r.psi:.4f} ≥ "
        f"{thresholds.alert if r.level is PsiLevel.alert else thresholds.watch} "
        f"({r.level.value})"
        for r in flagged
    ]
    level = max((r.level for r in [score, *variables]), key=lambda lv: _ORDER[lv])
    return StabilityReport(
        scorecard=spec.name,
        version=spec.version,
        reference_rows=reference.rows,
        current_rows=rows,
        thresholds=thresholds,
        score=score,
        variables=variables,
        level=level,
        alerts=alerts,
    )
