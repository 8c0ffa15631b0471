"""The portable scorecard: the file format (validation with file/line/field), scoring as one
ibis expression (DuckDB; Spark gives the same), reason codes."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from rongxin.rating import engines
from rongxin.rating.engines import Engine
from rongxin.rating.errors import ScorecardFileError, ScorecardInputError
from rongxin.rating.scorecard_scoring import (
    bin_index,
    check_columns,
    load_input,
    points_expressions,
    score_expression,
    scored_table,
    variable_points,
)
from rongxin.rating.scorecards import ScorecardSpec, dump_scorecard, load_scorecard, parse_scorecard

BASE = 500.0
CARD: dict[str, Any] = {
    "name": "hand",
    "version": "1",
    "base_points": BASE,
    "variables": [
        {
            "name": "age",
            "type": "numerical",
            "bins": [
                {"upper": 25, "points": -10.5},
                {"upper": 40, "points": 5.25},
                {"upper": None, "points": 12.0},
            ],
            "missing_points": -20.0,
        },
        {
            "name": "income",
            "type": "numerical",
            "bins": [{"upper": 3000, "points": -7.0}, {"upper": None, "points": 9.5}],
            "missing_points": 0.0,
        },
        {
            "name": "housing",
            "type": "categorical",
            "bins": [
                {"categories": ["own"], "points": 15.0},
                {"categories": ["rent", "free"], "points": -5.0},
            ],
            "other_points": 1.0,
            "missing_points": -2.5,
        },
        {
            "name": "grade",
            "type": "categorical",
            "bins": [{"categories": [1, 2], "points": 8.0}, {"categories": ["3"], "points": 0.0}],
            "other_points": -8.5,
            "missing_points": -4.0,
        },
    ],
}


def _rows() -> pa.Table:
    return pa.table(
        {
            "id": ["r1", "r2", "r3", "r4", "r5"],
            "age": pa.array([30.0, 25.0, math.nan, 24.999, math.inf], pa.float64()),
            "income": pa.array([5000.0, 3000.0, None, -math.inf, 2999.5], pa.float64()),
            "housing": pa.array(["own", "rent", "", "castle", None], pa.string()),
            "grade": pa.array([1, 3, None, 7, 2], pa.int64()),
        }
    )


# every row's points, read off the bins by hand (age, income, housing, grade)
EXPECTED_POINTS = {
    "r1": (5.25, 9.5, 15.0, 8.0),  # 30 < 40; 5000 ≥ 3000; own; 1 → "1"
    "r2": (5.25, 9.5, -5.0, 0.0),  # 25 is not < 25; 3000 is not < 3000; rent; 3 → "3"
    "r3": (-20.0, 0.0, -2.5, -4.0),  # NaN, NULL, "" and NULL are missing
    "r4": (-10.5, -7.0, 1.0, -8.5),  # 24.999 < 25; -inf < 3000; castle and 7: other
    "r5": (12.0, -7.0, -2.5, 8.0),  # inf: the last bin; 2999.5 < 3000; NULL; 2
}
# the most each variable can give: age 12, income 9.5, housing 15, grade 8
EXPECTED_REASONS = {
    "r1": ["age", None, None],  # only age lost points (12 − 5.25)
    "r2": ["housing", "grade", "age"],  # 20, 8, 6.75
    "r3": ["age", "housing", "grade"],  # 32, 17.5, 12 (income lost 9.5)
    "r4": ["age", "income", "grade"],  # 22.5, then income and grade both 16.5: card order
    "r5": ["housing", "income", None],  # 17.5, 16.5; age and grade lost nothing
}


@pytest.fixture
def spec() -> ScorecardSpec:
    return parse_scorecard(json.dumps(CARD), source="hand.json")


@pytest.fixture
def con() -> Any:
    backend = engines.connect(Engine.duckdb, threads=1)
    yield backend
    backend.disconnect()


def test_hand_built_card_scores_known_totals(spec: ScorecardSpec, con: Any) -> None:
    table = engines.load(con, "rows", _rows())
    out = engines.collect(con, scored_table(spec, table, keep=["id"])).to_pylist()
    assert [r["id"] for r in out] == list(EXPECTED_POINTS)
    for row in out:
        a, b, c, d = EXPECTED_POINTS[row["id"]]
        assert row["score"] == a + b + c + d + BASE, row["id"]
    assert {r["id"]: r["score"] for r in out} == {
        "r1": 537.75,
        "r2": 509.75,
        "r3": 473.5,
        "r4": 475.0,
        "r5": 510.5,
    }


def test_points_and_score_expressions(spec: ScorecardSpec, con: Any) -> None:
    table = engines.load(con, "rows", _rows())
    points = points_expressions(spec, table)
    assert list(points) == ["age", "income", "housing", "grade"]
    out = engines.collect(con, table.select("id", score=score_expression(spec, table), **points))
    for row in out.to_pylist():
        assert (row["age"], row["income"], row["housing"], row["grade"]) == EXPECTED_POINTS[
            row["id"]
        ]
        assert row["score"] == sum(EXPECTED_POINTS[row["id"]]) + BASE


def test_reason_codes_worst_first_ties_by_card_order(spec: ScorecardSpec, con: Any) -> None:
    table = engines.load(con, "rows", _rows())
    out = engines.collect(con, scored_table(spec, table, keep=["id"], reasons=3)).to_pylist()
    for row in out:
        got = [row["reason_1"], row["reason_2"], row["reason_3"]]
        assert got == EXPECTED_REASONS[row["id"]], row["id"]


def test_thresholds_and_points_are_exact(con: Any) -> None:
    """A threshold that SQL would read as a DECIMAL and round still splits at the exact float,
    and the sum is the float sum in the card's order (as optbinning adds)."""
    upper = -93.8820033932893
    just_below = math.nextafter(upper, -math.inf)
    points = [0.1, -93.8820033932893, 4.187683522629044]
    card = {
        "name": "exact",
        "version": "1",
        "base_points": 2 / 3,
        "variables": [
            {
                "name": "x",
                "type": "numerical",
                "bins": [{"upper": upper, "points": points[0]}, {"upper": None, "points": 7.7}],
                "missing_points": 0.0,
            },
            {
                "name": "y",
                "type": "numerical",
                "bins": [{"upper": None, "points": points[1]}],
                "missing_points": 0.0,
            },
            {
                "name": "z",
                "type": "numerical",
                "bins": [{"upper": None, "points": points[2]}],
                "missing_points": 0.0,
            },
        ],
    }
    spec = parse_scorecard(dump_scorecard(ScorecardSpec.model_validate(card)), source="x.json")
    rows = pa.table({"x": [just_below, upper], "y": [1, 1], "z": [1, 1]})
    out = engines.collect(con, scored_table(spec, engines.load(con, "exact", rows)))
    scores = out.column("score").to_pylist()
    assert scores[0] == ((points[0] + points[1]) + points[2]) + 2 / 3  # bitwise, in order
    assert scores[1] == ((7.7 + points[1]) + points[2]) + 2 / 3  # the upper is not below it


def test_integer_columns_split_as_float64(con: Any) -> None:
    """An integer column is compared with the integer above each upper, splitting exactly where
    optbinning's float64 comparison splits — past 2**53, too, where integers round to doubles
    (and uppers that large are compared as doubles)."""
    uppers = [-2.5, 3.0, 7.25, 2.0**52 - 0.5, 2.0**53 + 2, 2.0**60]
    card = ScorecardSpec.model_validate(
        {
            "name": "integers",
            "version": "1",
            "base_points": 0,
            "variables": [
                {
                    "name": "x",
                    "type": "numerical",
                    "bins": [
                        *({"upper": u, "points": n} for n, u in enumerate(uppers)),
                        {"upper": None, "points": len(uppers)},
                    ],
                    "missing_points": -1,
                }
            ],
        }
    )
    values = [-(2**63), -3, -2, 2, 3, 7, 8, 2**52 - 1, 2**52, 2**53, 2**53 + 1, 2**53 + 2]
    values += [2**53 + 3, 2**60 - 1, 2**60, 2**60 + 1, 2**63 - 1, None]
    rows = pa.table({"x": pa.array(values, pa.int64())})
    out = engines.collect(con, scored_table(card, engines.load(con, "integers", rows)))
    as_float = np.array([v for v in values if v is not None], dtype="int64").astype("float64")
    expected = [float(np.argmax(np.append(f < np.array(uppers), True))) for f in as_float]
    assert out.column("score").to_pylist() == [*expected, -1.0]


def test_csv_columns_are_compared_as_their_type(
    spec: ScorecardSpec, con: Any, tmp_path: Path
) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "id,age,income,housing,grade\nr1,30,5000,own,1\nr2,25,3000,rent,3\nr3,,,,\n",
        encoding="utf-8",
    )
    out = engines.collect(con, scored_table(spec, engines.load(con, "csv", path), keep=["id"]))
    got = {r["id"]: r["score"] for r in out.to_pylist()}
    assert got == {i: sum(EXPECTED_POINTS[i]) + BASE for i in ("r1", "r2", "r3")}


def test_dump_and_parse_round_trip(spec: ScorecardSpec, tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    path.write_text(dump_scorecard(spec), encoding="utf-8")
    again = load_scorecard(path)
    assert again == spec
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data) == ["name", "version", "base_points", "variables"]
    assert data["variables"][0]["bins"][-1] == {"upper": None, "points": 12.0}
    assert data["variables"][3]["bins"][0]["categories"] == ["1", "2"]  # categories are text
    assert set(data["variables"][2]) == {"name", "type", "bins", "other_points", "missing_points"}


def _line_of(text: str, needle: str, *, after: str = "") -> int:
    start = text.index(after) if after else 0
    return text[: text.index(needle, start)].count("\n") + 1


def _card_text(**change: Any) -> str:
    card = json.loads(json.dumps(CARD))
    for path, value in change.items():
        node: Any = card
        *parents, last = path.split("__")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value
    return json.dumps(card, indent=2)


@pytest.mark.parametrize(
    ("change", "field", "needle", "reason"),
    [
        (
            {"variables__0__bins__1__upper": 20},
            "variables.0.bins",
            '"bins"',
            "bin uppers must increase strictly",
        ),
        (
            {"variables__1__bins__1__upper": 9000},
            "variables.1.bins",
            '"bins"',
            'the last bin must have "upper": null',
        ),
        (
            {"variables__0__bins__0__upper": None},
            "variables.0.bins",
            '"bins"',
            'only the last bin has "upper": null',
        ),
        (
            {"variables__2__bins__1__categories": ["rent", "own"]},
            "variables.2.bins",
            '"bins"',
            "category 'own' is in bins 0 and 1",
        ),
        (
            {"variables__0__bins__2__points": math.nan},
            "variables.0.bins.2.points",
            "NaN",
            "finite number",
        ),
        (
            {"variables__1__type": "ordinal"},
            "variables.1",
            '"name": "income"',
            "does not match any of the expected tags",
        ),
        (
            {"variables__3__other_points": None},
            "variables.3.other_points",
            '"other_points": null',
            "valid number",
        ),
        (
            {"variables__2__name": "age"},
            "(top)",
            None,
            "variable 'age' is defined twice",
        ),
    ],
)
def test_bad_cards_name_file_line_and_field(
    change: dict[str, Any], field: str, needle: str | None, reason: str
) -> None:
    text = _card_text(**change)
    with pytest.raises(ScorecardFileError) as caught:
        parse_scorecard(text, source="cards/bad.json")
    problem = caught.value.details["problems"][0]
    assert problem["file"] == "cards/bad.json"
    assert problem["field"] == field
    assert reason in problem["reason"]
    variable = field.split(".")[1] if field.startswith("variables.") else None
    if needle is not None and variable is not None:
        anchor = f'"name": "{CARD["variables"][int(variable)]["name"]}"'
        if needle == anchor:
            assert problem["line"] == _line_of(text, needle) - 1  # the variable's "{"
        else:
            assert problem["line"] == _line_of(text, needle, after=anchor)
    assert caught.value.message.startswith(f"cards/bad.json:{problem['line']}: {field}: ")


def test_missing_field_and_extra_field() -> None:
    card = json.loads(json.dumps(CARD))
    del card["variables"][0]["missing_points"]
    card["variables"][1]["weight"] = 3
    with pytest.raises(ScorecardFileError) as caught:
        parse_scorecard(json.dumps(card, indent=2), source="c.json")
    fields = {p["field"]: p["reason"] for p in caught.value.details["problems"]}
    assert fields["variables.0.missing_points"] == "Field required"
    assert "Extra inputs are not permitted" in fields["variables.1.weight"]


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "name": "x",\n  "version": "1"\n  "base_points": 1\n}\n', "utf-8")
    with pytest.raises(ScorecardFileError, match=rf"^{path}:4: not valid JSON"):
        load_scorecard(path)
    with pytest.raises(ScorecardFileError, match="cannot read the scorecard file"):
        load_scorecard(tmp_path / "absent.json")
    path.write_text("[1, 2]", "utf-8")
    with pytest.raises(ScorecardFileError, match="a scorecard is an object"):
        load_scorecard(path)


def test_check_columns_names_the_missing_and_mistyped(spec: ScorecardSpec, con: Any) -> None:
    rows = _rows().drop_columns(["income"])
    with pytest.raises(ScorecardInputError, match=r"data\.csv: no column 'income'") as caught:
        check_columns(spec, engines.load(con, "a", rows), source="data.csv")
    assert caught.value.details["columns"] == ["income"]
    text_age = _rows().set_column(1, "age", pa.array(["30", "25", "", "1", "2"]))
    with pytest.raises(ScorecardInputError, match="column 'age' holds string") as caught:
        check_columns(spec, engines.load(con, "b", text_age), source="data.csv")
    assert caught.value.details["column"] == "age"


def test_scored_table_refuses_clashing_columns(spec: ScorecardSpec, con: Any) -> None:
    rows = _rows().append_column("score", pa.array([1, 2, 3, 4, 5]))
    with pytest.raises(ScorecardInputError, match="'score' cannot be carried through"):
        scored_table(spec, engines.load(con, "c", rows), keep=["score"])
    with pytest.raises(ScorecardInputError, match="--reasons must be 0–20"):
        scored_table(spec, engines.load(con, "d", _rows()), reasons=21)


@pytest.mark.slow
def test_spark_gives_the_same_scores_and_reasons(spec: ScorecardSpec) -> None:
    """The one expression, unchanged, on Spark (local mode) and on DuckDB."""
    results = []
    for engine in (Engine.duckdb, Engine.spark):
        backend = engines.connect(engine, threads=1)
        try:
            table = engines.load(backend, "spark_rows", _rows())
            expr = scored_table(spec, table, keep=["id"], reasons=3).order_by("id")
            results.append(engines.collect(backend, expr).to_pylist())
        finally:
            backend.disconnect()
    assert results[0] == results[1]
    assert [r["score"] for r in results[1]] == [537.75, 509.75, 473.5, 475.0, 510.5]


def test_csv_text_is_kept_as_written(tmp_path: Path) -> None:
    """A CSV column of yes/no stays text (DuckDB would guess booleans; Spark keeps text)."""
    path = tmp_path / "flags.csv"
    path.write_text("id,flag,n\na,yes,1\nb,no,2\nc,,3\n", encoding="utf-8")
    card = ScorecardSpec.model_validate(
        {
            "name": "flags",
            "version": "1",
            "base_points": 0,
            "variables": [
                {
                    "name": "flag",
                    "type": "categorical",
                    "bins": [
                        {"categories": ["yes"], "points": 3},
                        {"categories": ["no"], "points": 1},
                    ],
                    "other_points": 0,
                    "missing_points": -1,
                }
            ],
        }
    )
    backend = engines.connect(Engine.duckdb, threads=1)
    try:
        table = load_input(backend, path)
        assert table.schema()["flag"].is_string()
        assert table.schema()["n"].is_integer()
        out = engines.collect(backend, scored_table(card, table, keep=["id"])).to_pylist()
    finally:
        backend.disconnect()
    assert {r["id"]: r["score"] for r in out} == {"a": 3.0, "b": 1.0, "c": -1.0}


def test_many_categories_are_one_lookup(con: Any) -> None:
    """90 categories in two bins: one map lookup gives each its bin (and its points); "" and
    NULL are missing, a code in no bin is other."""
    low = [f"c{n:03d}" for n in range(40)]
    high = [f"c{n:03d}" for n in range(40, 90)]
    card = ScorecardSpec.model_validate(
        {
            "name": "many",
            "version": "1",
            "base_points": 1,
            "variables": [
                {
                    "name": "code",
                    "type": "categorical",
                    "bins": [{"categories": low, "points": 2}, {"categories": high, "points": 7}],
                    "other_points": -1,
                    "missing_points": -5,
                }
            ],
        }
    )
    rows = pa.table({"code": ["c000", "c039", "c040", "c089", "c090", "", None]})
    table = engines.load(con, "many", rows)
    out = engines.collect(con, scored_table(card, table))
    assert out.column("score").to_pylist() == [3.0, 3.0, 8.0, 8.0, 0.0, -4.0, -4.0]
    bins = engines.collect(con, table.select(bin=bin_index(card.variables[0], table)))
    assert bins.column("bin").to_pylist() == [0, 0, 1, 1, 3, 2, 2]  # bins, missing, other


def test_categories_of_number_columns(con: Any) -> None:
    """Numbers are looked up as their text; in a float column NaN is missing (tested before the
    lookup); when missing and other give the same points, NULL simply finds nothing."""
    card = ScorecardSpec.model_validate(
        {
            "name": "numbers",
            "version": "1",
            "base_points": 0,
            "variables": [
                {
                    "name": "f",
                    "type": "categorical",
                    "bins": [
                        {"categories": ["1.0"], "points": 10},
                        {"categories": ["2.5"], "points": 20},
                    ],
                    "other_points": 4,
                    "missing_points": -3,
                },
                {
                    "name": "n",
                    "type": "categorical",
                    "bins": [{"categories": ["1"], "points": 2}],
                    "other_points": 0.5,
                    "missing_points": 0.5,
                },
            ],
        }
    )
    rows = pa.table(
        {
            "f": pa.array([1.0, 2.5, math.nan, None, 7.0], pa.float64()),
            "n": pa.array([1, 2, None, 1, 3], pa.int64()),
        }
    )
    table = engines.load(con, "numbers", rows)
    f, n = card.variables
    out = engines.collect(
        con,
        table.select(
            f=variable_points(f, table),
            n=variable_points(n, table),
            f_bin=bin_index(f, table),
            n_bin=bin_index(n, table),
        ),
    ).to_pydict()
    assert out["f"] == [10.0, 20.0, -3.0, -3.0, 4.0]
    assert out["n"] == [2.0, 0.5, 0.5, 2.0, 0.5]
    assert out["f_bin"] == [0, 1, 2, 2, 3]
    assert out["n_bin"] == [0, 2, 1, 0, 2]  # bin_index keeps missing apart from other


def test_reasons_match_a_sort_on_many_rows(con: Any) -> None:
    """Reason codes on 500 rows with many ties, against sorting by (lost points desc, order)."""
    names = [f"v{n}" for n in range(6)]
    points = [0.0, 1.0, 2.0, 4.0]  # bins by x < 1, 2, 3; many equal losses
    card = ScorecardSpec.model_validate(
        {
            "name": "ties",
            "version": "1",
            "base_points": 0,
            "variables": [
                {
                    "name": name,
                    "type": "numerical",
                    "bins": [
                        {"upper": 1, "points": points[0]},
                        {"upper": 2, "points": points[1]},
                        {"upper": 3, "points": points[2]},
                        {"upper": None, "points": points[3]},
                    ],
                    "missing_points": 1.0,
                }
                for name in names
            ],
        }
    )
    rng = np.random.default_rng(11)
    values = {name: rng.integers(0, 4, 500).astype("float64") for name in names}
    rows = pa.table({"row": np.arange(500), **values})
    out = engines.collect(
        con, scored_table(card, engines.load(con, "ties", rows), keep=["row"], reasons=4)
    ).to_pylist()
    assert len(out) == 500
    for got in out:
        n = got["row"]
        lost = [points[3] - points[int(values[name][n])] for name in names]
        order = sorted((i for i in range(6) if lost[i] > 0), key=lambda i: (-lost[i], i))
        expected = [names[i] for i in order[:4]] + [None] * (4 - len(order[:4]))
        assert [got[f"reason_{r}"] for r in range(1, 5)] == expected, n
        assert got["score"] == sum(points[int(values[name][n])] for name in names)
