"""``rongxin rating train`` and ``rongxin rating score``: any CSV or Parquet file, atomic
output, clear errors with exit code 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from rongxin import cli as root_cli
from rongxin.rating.cli import app
from rongxin.rating.errors import ScorecardFileError, ScorecardInputError
from rongxin.rating.scorecards import load_scorecard
from rongxin.rating.training import TrainedScorecard

runner = CliRunner()

CARD = {
    "name": "cli",
    "version": "3",
    "base_points": 600,
    "variables": [
        {
            "name": "years",
            "type": "numerical",
            "bins": [{"upper": 3, "points": -20}, {"upper": None, "points": 10}],
            "missing_points": -30,
        },
        {
            "name": "sector",
            "type": "categorical",
            "bins": [{"categories": ["C"], "points": 5}, {"categories": ["F", "G"], "points": -5}],
            "other_points": 0,
            "missing_points": -10,
        },
    ],
}
ROWS = "uscc,years,sector\nA1,1,C\nA2,3,G\nA3,,\nA4,10,Z\n"
# by hand: A1 −20 + 5; A2 10 − 5; A3 −30 − 10; A4 10 + 0 (Z is in no bin)
EXPECTED = {"A1": 585.0, "A2": 605.0, "A3": 560.0, "A4": 610.0}
# max points: years 10, sector 5 — what each row lost: A1 years 30; A2 sector 10;
# A3 years 40, sector 15; A4 sector 5
EXPECTED_REASONS = {
    "A1": ["years", None],
    "A2": ["sector", None],
    "A3": ["years", "sector"],
    "A4": ["sector", None],
}


@pytest.fixture
def card(tmp_path: Path) -> Path:
    path = tmp_path / "card.json"
    path.write_text(json.dumps(CARD, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def rows(tmp_path: Path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(ROWS, encoding="utf-8")
    return path


def _ok(args: list[str]) -> Any:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def _fails(args: list[str]) -> BaseException:
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert result.exception is not None
    return result.exception


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


def test_score_csv_to_parquet_with_ids_and_reasons(card: Path, rows: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    args = ["score", "--model", str(card), "--input", str(rows), "--output", str(out)]
    _ok([*args, "--id-column", "uscc", "--reasons", "2"])
    table = pq.read_table(out)
    assert table.column_names == ["uscc", "score", "reason_1", "reason_2"]
    got = table.to_pylist()
    assert {r["uscc"]: r["score"] for r in got} == EXPECTED
    assert {r["uscc"]: [r["reason_1"], r["reason_2"]] for r in got} == EXPECTED_REASONS
    assert _leftovers(tmp_path) == []


def test_score_parquet_to_csv(card: Path, tmp_path: Path) -> None:
    source = tmp_path / "rows.parquet"
    pq.write_table(pacsv.read_csv(pa.py_buffer(ROWS.encode())), source)
    out = tmp_path / "scores.csv"
    _ok(["score", "--model", str(card), "--input", str(source), "--output", str(out)])
    table = pacsv.read_csv(out)
    assert table.column_names == ["score"]
    assert table.column("score").to_pylist() == list(EXPECTED.values())


def test_train_then_score_reproduces_optbinning(
    german_credit: Path, german_trained: TrainedScorecard, tmp_path: Path
) -> None:
    """Train on German Credit from the command line, then score a Parquet copy with an id
    column: optbinning's Scorecard.score on every row, within 1e-6 points."""
    model = tmp_path / "model.json"
    result = _ok(
        [
            "train",
            "--data",
            str(german_credit),
            "--target",
            "creditability",
            "--bad",
            "bad",
            "--output",
            str(model),
            "--seed",
            "7",
            "--name",
            "german",
            "--json",
        ]
    )
    report = json.loads(result.stdout)
    assert report["metrics"]["rows"] == 300
    assert report["fingerprint"] == german_trained.result.fingerprint
    assert set(report["reference"]["variables"]) == set(german_trained.result.spec.names)
    spec = load_scorecard(model)
    assert spec == german_trained.result.spec  # the same card as the library call

    data = pacsv.read_csv(german_credit)
    data = data.append_column("loan_id", pa.array(range(1, data.num_rows + 1)))
    source = tmp_path / "loans.parquet"
    pq.write_table(data, source)
    out = tmp_path / "scored.parquet"
    _ok(
        [
            "score",
            "--model",
            str(model),
            "--input",
            str(source),
            "--output",
            str(out),
            "--id-column",
            "loan_id",
        ]
    )
    scored = pq.read_table(out).sort_by("loan_id")
    assert scored.column("loan_id").to_pylist() == list(range(1, 1001))
    theirs = german_trained.scorecard.score(german_trained.frame)
    ours = np.asarray(scored.column("score").to_pylist())
    assert np.max(np.abs(ours - theirs)) <= 1e-6


def test_score_errors_name_file_and_column_and_write_nothing(
    card: Path, rows: Path, tmp_path: Path
) -> None:
    out = tmp_path / "scores.parquet"
    base = ["score", "--model", str(card), "--output", str(out)]

    no_sector = tmp_path / "no_sector.csv"
    no_sector.write_text("uscc,years\nA1,1\n", encoding="utf-8")
    exc = _fails([*base, "--input", str(no_sector)])
    assert isinstance(exc, ScorecardInputError)
    assert f"{no_sector}: no column 'sector'" in exc.message

    text_years = tmp_path / "text_years.csv"
    text_years.write_text("years,sector\nabc,C\n", encoding="utf-8")
    exc = _fails([*base, "--input", str(text_years)])
    assert isinstance(exc, ScorecardInputError)
    assert "column 'years' holds string" in exc.message

    exc = _fails([*base, "--input", str(rows), "--id-column", "lei"])
    assert isinstance(exc, ScorecardInputError)
    assert "no column 'lei' (--id-column)" in exc.message

    exc = _fails([*base, "--input", str(tmp_path / "absent.csv")])
    assert isinstance(exc, ScorecardInputError)
    assert "absent.csv: no such file" in exc.message

    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    exc = _fails([*base, "--input", str(broken)])
    assert isinstance(exc, ScorecardInputError)
    assert f"{broken}: cannot read the file" in exc.message

    bad_card = tmp_path / "bad.json"
    bad_card.write_text(json.dumps({**CARD, "base_points": "lots"}, indent=2), encoding="utf-8")
    exc = _fails(["score", "--model", str(bad_card), "--input", str(rows), "--output", str(out)])
    assert isinstance(exc, ScorecardFileError)
    assert exc.message.startswith(f"{bad_card}:4: base_points:")

    exc = _fails(["score", "--model", str(card), "--input", str(rows), "--output", "x.xlsx"])
    assert isinstance(exc, ScorecardInputError)
    assert "write scores to a .parquet or .csv file" in exc.message

    assert not out.exists()
    assert _leftovers(tmp_path) == []


def test_train_errors_write_nothing(german_credit: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.json"
    base = ["train", "--data", str(german_credit), "--output", str(model)]
    exc = _fails([*base, "--target", "creditability", "--bad", "default"])
    assert isinstance(exc, ScorecardInputError)
    assert "no row has creditability = 'default'" in exc.message
    exc = _fails([*base, "--target", "outcome", "--bad", "bad"])
    assert isinstance(exc, ScorecardInputError)
    assert "no target column 'outcome'" in exc.message
    exc = _fails([*base, "--target", "creditability", "--bad", "bad", "--test-size", "1.5"])
    assert "--test-size" in str(exc)
    exc = _fails([*base, "--target", "creditability", "--bad", "bad", "--monotonic-trend", "up"])
    assert str(exc).startswith("--monotonic-trend: Input should be 'auto'")
    assert not model.exists()
    assert _leftovers(tmp_path) == []


def test_root_command_exits_2_with_the_message(
    card: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.csv"
    missing.write_text("uscc\nA1\n", encoding="utf-8")
    out = tmp_path / "o.parquet"
    argv = ["rongxin", "rating", "score", "--model", str(card), "--input", str(missing)]
    monkeypatch.setattr(sys, "argv", [*argv, "--output", str(out)])
    with pytest.raises(SystemExit) as caught:
        root_cli.main()
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "no column 'years', 'sector'" in err
    assert not out.exists()


@pytest.mark.slow
def test_score_on_spark_gives_the_same_file(card: Path, rows: Path, tmp_path: Path) -> None:
    outputs = {}
    for engine in ("duckdb", "spark"):
        out = tmp_path / f"{engine}.parquet"
        args = ["score", "--model", str(card), "--input", str(rows), "--output", str(out)]
        _ok([*args, "--engine", engine, "--id-column", "uscc", "--reasons", "2"])
        outputs[engine] = pq.read_table(out).sort_by("uscc").to_pylist()
    assert outputs["duckdb"] == outputs["spark"]
    assert {r["uscc"]: r["score"] for r in outputs["spark"]} == EXPECTED


def test_spark_without_the_extra_names_it_and_writes_nothing(
    card: Path, rows: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A base install leaves pyspark out (the ``spark`` extra): asking for the engine says
    how to get it instead of failing on an import."""
    from rongxin.rating.errors import EngineUnavailable

    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # `import pyspark.sql` fails
    monkeypatch.setattr("rongxin.rating.engines.shutil.which", lambda _name: "/usr/bin/java")
    out = tmp_path / "spark.parquet"
    args = ["score", "--model", str(card), "--input", str(rows), "--output", str(out)]
    exc = _fails([*args, "--engine", "spark", "--id-column", "uscc"])
    assert isinstance(exc, EngineUnavailable)
    assert "pip install 'rongxin[spark]'" in exc.message
    assert not out.exists()
    assert _leftovers(tmp_path) == []
