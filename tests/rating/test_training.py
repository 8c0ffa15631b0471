"""Training on loan outcomes: German Credit (a real public data set) against optbinning's own
pipeline, the export reproducing ``Scorecard.score``, missing values, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from optbinning import BinningProcess, Scorecard
from scipy.stats import ks_2samp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from rongxin.rating import engines
from rongxin.rating.errors import ScorecardInputError
from rongxin.rating.schemas import TrainingOptions
from rongxin.rating.scorecard_scoring import SCORE_COLUMN, load_input, scored_table
from rongxin.rating.training import TrainedScorecard, fingerprint, train_scorecard


def _spec_scores(trained: TrainedScorecard, source: Path | pa.Table) -> np.ndarray[Any, Any]:
    con = engines.connect(engines.Engine.duckdb, threads=1)
    try:
        table = (
            load_input(con, source)
            if isinstance(source, Path)
            else engines.load(con, "frame", source)
        )
        out = engines.collect(con, scored_table(trained.result.spec, table).select(SCORE_COLUMN))
    finally:
        con.disconnect()
    return np.asarray(out.column(SCORE_COLUMN).to_pylist(), dtype="float64")


def test_german_credit_auc_matches_optbinnings_own_pipeline(
    german_credit: Path, german_trained: TrainedScorecard, german_options: TrainingOptions
) -> None:
    """optbinning's scorecard pipeline, scripted as its documentation does, on the same
    stratified split: the held-out AUC of our card is within 0.01 of its AUC."""
    data = pd.read_csv(german_credit)
    y = (data.pop("creditability") == "bad").astype(int).to_numpy()
    categorical = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
    x_train, x_test, y_train, y_test = train_test_split(
        data, y, test_size=0.3, random_state=german_options.seed, stratify=y
    )
    process = BinningProcess(
        variable_names=list(data.columns),
        categorical_variables=categorical,
        binning_fit_params={
            c: {"monotonic_trend": "auto_asc_desc"} for c in data.columns if c not in categorical
        },
    )
    reference = Scorecard(
        binning_process=process,
        estimator=LogisticRegression(),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600},
    ).fit(x_train, y_train)
    their_auc = roc_auc_score(y_test, reference.predict_proba(x_test)[:, 1])

    metrics = german_trained.result.metrics
    assert metrics.rows == len(y_test) == 300
    assert metrics.bads == int(y_test.sum()) == 90
    assert abs(metrics.auc - their_auc) <= 0.01
    assert metrics.auc > 0.7  # German Credit scorecards reach about 0.75–0.80
    assert sorted(german_trained.test_index) == sorted(x_test.index)


def test_exported_card_reproduces_scorecard_score(
    german_credit: Path, german_trained: TrainedScorecard
) -> None:
    """The card, run by DuckDB on the raw CSV, gives optbinning's Scorecard.score (1e-6)."""
    ours = _spec_scores(german_trained, german_credit)
    test = german_trained.test_index
    theirs = german_trained.scorecard.score(german_trained.frame.iloc[test])
    assert np.max(np.abs(ours[test] - theirs)) <= 1e-6
    every = german_trained.scorecard.score(german_trained.frame)
    assert np.max(np.abs(ours - every)) <= 1e-6  # and on the training rows too
    assert german_trained.result.export_max_abs_diff <= 1e-6
    spec = german_trained.result.spec
    assert len(spec.variables) == 20
    kinds = german_trained.result.variables
    assert kinds["duration_in_month"] == "numerical"
    assert kinds["purpose"] == "categorical"


def test_metrics_are_the_cards_own(german_credit: Path, german_trained: TrainedScorecard) -> None:
    scores = _spec_scores(german_trained, german_credit)[german_trained.test_index]
    y = german_trained.target[german_trained.test_index]
    m = german_trained.result.metrics
    assert m.auc == pytest.approx(roc_auc_score(y, -scores), abs=1e-12)
    assert m.gini == pytest.approx(2 * m.auc - 1, abs=1e-12)
    assert m.ks == pytest.approx(ks_2samp(scores[y == 1], scores[y == 0]).statistic, abs=1e-9)
    assert m.bad_rate == pytest.approx(0.3)
    assert m.train_rows == 700


def test_reference_is_the_development_sample(german_trained: TrainedScorecard) -> None:
    ref = german_trained.result.reference
    assert ref.rows == 700
    assert ref.score.total == 700
    assert len(ref.score.counts) == 10
    assert max(ref.score.counts) - min(ref.score.counts) <= 10  # deciles of the scores
    train = german_trained.frame.iloc[german_trained.train_index]
    housing = ref.variables["housing"]
    spec = {v.name: v for v in german_trained.result.spec.variables}["housing"]
    for label, count, b in zip(housing.labels, housing.counts, spec.bins, strict=False):
        assert count == int(train["housing"].isin(b.categories).sum()), label
    assert housing.counts[-2:] == [0, 0]  # no missing, no other in German Credit


def test_fingerprint_covers_file_target_and_bad_value(
    german_credit: Path, german_trained: TrainedScorecard, tmp_path: Path
) -> None:
    assert german_trained.result.fingerprint == fingerprint(
        german_credit, target="creditability", bad="bad"
    )
    assert fingerprint(german_credit, target="creditability", bad="good") != (
        german_trained.result.fingerprint
    )
    copy = tmp_path / "g.csv"
    copy.write_bytes(german_credit.read_bytes() + b"\n")
    assert fingerprint(copy, target="creditability", bad="bad") != (
        german_trained.result.fingerprint
    )


def _loans(rows: int = 3000, seed: int = 3) -> pd.DataFrame:
    """Synthetic loans with missing values: income (NaN), sector ("" and NULL), flag (bool)."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(8, 0.6, rows)
    sector = rng.choice(["retail", "farming", "tech", "mining"], rows, p=[0.4, 0.3, 0.2, 0.1])
    flag = rng.random(rows) < 0.3
    logit = -1.0 - 0.0004 * (income - 3000) + (sector == "mining") * 1.2 + flag * 0.8
    bad = rng.random(rows) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "loan_id": np.arange(rows),
            "income": income,
            "sector": sector.astype(object),
            "flag": flag,
            "status": np.where(bad, 1, 0),
        }
    )
    frame.loc[rng.random(rows) < 0.1, "income"] = np.nan
    frame.loc[rng.random(rows) < 0.05, "sector"] = ""
    frame.loc[rng.random(rows) < 0.05, "sector"] = None
    return frame


def test_missing_values_and_parquet_input(tmp_path: Path) -> None:
    path = tmp_path / "loans.parquet"
    pq.write_table(pa.Table.from_pandas(_loans(), preserve_index=False), path)
    trained = train_scorecard(
        path,
        options=TrainingOptions(
            target="status", bad="1", name="loans", exclude=("loan_id",), seed=5
        ),
    )
    spec = {v.name: v for v in trained.result.spec.variables}
    assert set(spec) == {"income", "sector", "flag"}
    assert spec["flag"].type == "categorical"
    assert {c for b in spec["flag"].bins for c in b.categories} == {"true", "false"}
    assert trained.result.reference.variables["income"].counts[-1] > 0  # missing incomes
    assert trained.result.reference.variables["sector"].counts[-2] > 0  # "" and NULL: missing
    # the card on the raw file (with "" and NULL) = optbinning on the frame it trained on
    ours = _spec_scores(trained, path)
    assert np.max(np.abs(ours - trained.scorecard.score(trained.frame))) <= 1e-6
    # a sector never seen in training: optbinning gives it the missing points, so does the card
    unseen = trained.frame.iloc[:5].copy()
    unseen["sector"] = "shipping"
    theirs = trained.scorecard.score(unseen)
    assert np.max(np.abs(_spec_scores(trained, pa.Table.from_pandas(unseen)) - theirs)) <= 1e-6


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_input_names_file_and_column(german_credit: Path, tmp_path: Path) -> None:
    options = TrainingOptions(target="creditability", bad="bad", name="g")
    with pytest.raises(ScorecardInputError, match="no target column 'outcome'") as caught:
        train_scorecard(german_credit, options=options.model_copy(update={"target": "outcome"}))
    assert caught.value.details["file"] == str(german_credit)
    with pytest.raises(ScorecardInputError, match=r"no row has creditability = 'BAD'.*'good'"):
        train_scorecard(german_credit, options=options.model_copy(update={"bad": "BAD"}))
    with pytest.raises(ScorecardInputError, match="--exclude names no column 'uscc'"):
        train_scorecard(german_credit, options=options.model_copy(update={"exclude": ("uscc",)}))
    numeric = _csv(tmp_path, "x,y\n1,0\n2,1\n3,0\n")
    with pytest.raises(ScorecardInputError, match="holds numbers; --bad 'yes' is not one"):
        train_scorecard(numeric, options=TrainingOptions(target="y", bad="yes", name="n"))
    empty_target = _csv(tmp_path, "x,y\n1,0\n2,\n3,1\n")
    with pytest.raises(ScorecardInputError, match="empty in 1 rows \\(the first is data row 2\\)"):
        train_scorecard(empty_target, options=TrainingOptions(target="y", bad="1", name="n"))
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not a parquet file")
    with pytest.raises(ScorecardInputError, match=re.escape(f"{broken}: cannot read the file")):
        train_scorecard(broken, options=options)
    with pytest.raises(ScorecardInputError, match=re.escape("read Parquet (.parquet) or CSV")):
        train_scorecard(tmp_path / "data.xlsx", options=options)
    assert json.dumps(caught.value.to_dict())  # the API can render every one of them
