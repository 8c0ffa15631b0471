"""Stability monitoring: PSI by score band and by variable, with watch/alert thresholds."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from rongxin.rating import engines
from rongxin.rating.errors import ScorecardFileError, ScorecardInputError
from rongxin.rating.schemas import PsiLevel, PsiThresholds
from rongxin.rating.scorecards import ScorecardSpec
from rongxin.rating.stability import (
    build_reference,
    load_thresholds,
    psi_bins,
    stability_report,
)

SPEC = ScorecardSpec.model_validate(
    {
        "name": "psi",
        "version": "2",
        "base_points": 400,
        "variables": [
            {
                "name": "age",
                "type": "numerical",
                "bins": [
                    {"upper": 30, "points": 10},
                    {"upper": 50, "points": 30},
                    {"upper": None, "points": 45},
                ],
                "missing_points": 0,
            },
            {
                "name": "income",
                "type": "numerical",
                "bins": [{"upper": 5000, "points": 5}, {"upper": None, "points": 25}],
                "missing_points": 0,
            },
            {
                "name": "housing",
                "type": "categorical",
                "bins": [
                    {"categories": ["own"], "points": 40},
                    {"categories": ["rent"], "points": 15},
                ],
                "other_points": 20,
                "missing_points": 10,
            },
        ],
    }
)


def _sample(rows: int, *, seed: int, age_shift: float = 0.0, renters: float = 0.4) -> pa.Table:
    rng = np.random.default_rng(seed)
    housing = np.where(rng.random(rows) < renters, "rent", "own").astype(object)
    housing[rng.random(rows) < 0.05] = None
    return pa.table(
        {
            "age": rng.normal(40 + age_shift, 10, rows),
            "income": rng.lognormal(8.5, 0.5, rows),
            "housing": pa.array(housing, pa.string()),
        }
    )


@pytest.fixture
def con() -> Iterator[Any]:
    backend = engines.connect(engines.Engine.duckdb, threads=1)
    yield backend
    backend.disconnect()


def test_psi_of_identical_counts_is_zero() -> None:
    value, parts = psi_bins([120, 0, 30, 850], [120, 0, 30, 850], epsilon=1e-4)
    assert value == 0.0
    assert [p[2] for p in parts] == [0.0, 0.0, 0.0, 0.0]
    same_shares, _ = psi_bins([12, 3], [1200, 300], epsilon=1e-4)
    assert same_shares == 0.0


def test_psi_by_hand_with_smoothing() -> None:
    eps = 1e-4
    value, parts = psi_bins([50, 50], [80, 20], epsilon=eps)
    r = (0.5 + eps) / (1 + 2 * eps)
    c1, c2 = (0.8 + eps) / (1 + 2 * eps), (0.2 + eps) / (1 + 2 * eps)
    expected = (c1 - r) * math.log(c1 / r) + (c2 - r) * math.log(c2 / r)
    assert value == pytest.approx(expected, rel=1e-12)
    assert value == pytest.approx(0.416, abs=1e-3)
    assert [(p[0], p[1]) for p in parts] == [(0.5, 0.8), (0.5, 0.2)]
    empty, _ = psi_bins([5, 5], [10, 0], epsilon=eps)  # an empty bin: large but finite
    assert math.isfinite(empty)
    assert empty > 1


def test_thresholds_are_data() -> None:
    t = PsiThresholds()
    assert (t.watch, t.alert) == (0.1, 0.25)
    assert t.level(0.0999) is PsiLevel.stable
    assert t.level(0.1) is PsiLevel.watch
    assert t.level(0.25) is PsiLevel.alert
    assert PsiThresholds(watch=0.05, alert=0.1).level(0.07) is PsiLevel.watch
    with pytest.raises(ValidationError, match="alert threshold must be above the watch"):
        PsiThresholds(watch=0.3, alert=0.2)


def test_thresholds_file(tmp_path: Path) -> None:
    assert load_thresholds() == PsiThresholds()
    path = tmp_path / "psi.yaml"
    path.write_text("watch: 0.05\nalert: 0.2\n", encoding="utf-8")
    assert load_thresholds(path) == PsiThresholds(watch=0.05, alert=0.2)
    path.write_text("watch: 0.05\nalert: high\n", encoding="utf-8")
    with pytest.raises(ScorecardFileError) as caught:
        load_thresholds(path)
    problem = caught.value.details["problems"][0]
    assert (problem["file"], problem["line"], problem["field"]) == (str(path), 2, "alert")


def test_same_population_is_stable(con: Any) -> None:
    reference = build_reference(con, SPEC, engines.load(con, "dev", _sample(5000, seed=1)))
    assert reference.rows == 5000
    assert reference.score.total == 5000
    assert reference.variables["housing"].labels == ["own", "rent", "missing", "other"]
    same = stability_report(con, SPEC, reference, engines.load(con, "dev2", _sample(5000, seed=1)))
    assert same.score.psi == 0.0
    assert all(v.psi == 0.0 for v in same.variables)
    assert same.level is PsiLevel.stable
    assert same.alerts == []
    fresh = stability_report(con, SPEC, reference, engines.load(con, "b", _sample(5000, seed=2)))
    assert fresh.score.psi < 0.1  # another sample of the same population
    assert fresh.level is PsiLevel.stable


def test_shifted_population_alerts(con: Any) -> None:
    reference = build_reference(con, SPEC, engines.load(con, "dev", _sample(5000, seed=1)))
    shifted = _sample(5000, seed=3, age_shift=25, renters=0.9)
    report = stability_report(con, SPEC, reference, engines.load(con, "now", shifted))
    by_name = {v.name: v for v in report.variables}
    assert report.score.psi > 0.25
    assert report.score.level is PsiLevel.alert
    assert by_name["age"].psi > 0.25
    assert by_name["housing"].psi > 0.25
    assert by_name["income"].level is PsiLevel.stable  # income did not move
    assert report.level is PsiLevel.alert
    assert report.current_rows == 5000
    flagged = [a.split(":")[0] for a in report.alerts]
    assert set(flagged) == {"score", "variable 'age'", "variable 'housing'"}
    psis = [float(a.split("PSI ")[1].split(" ")[0]) for a in report.alerts]
    assert psis == sorted(psis, reverse=True)  # worst first
    assert sum(b.contribution for b in report.score.bins) == pytest.approx(report.score.psi)


def test_reference_of_another_card_is_refused(con: Any) -> None:
    reference = build_reference(con, SPEC, engines.load(con, "dev", _sample(500, seed=1)))
    data = SPEC.model_dump()
    data["variables"][0]["bins"][0]["upper"] = 35
    other = ScorecardSpec.model_validate(data)
    with pytest.raises(ScorecardInputError, match="bins of 'age' differ from scorecard 'psi' 2"):
        stability_report(con, other, reference, engines.load(con, "x", _sample(500, seed=2)))
