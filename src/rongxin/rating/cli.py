"""``rongxin rating``: the platform's full-coverage rating (``run``, ``runs``, ``show``), and
statistical scorecards — train one on any CSV or Parquet file, score any file with a portable
scorecard (DuckDB embedded, or Spark).

Bad input (an unreadable file, a missing column, a target without the bad value) stops with a
message naming the file and column and exit code 2; nothing is written half-way (results go
to a temporary file that is renamed when complete).
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import typer

from rongxin.errors import RongxinError
from rongxin.rating.engines import Engine
from rongxin.rating.errors import ScorecardInputError

app = typer.Typer(
    help="信用评价 — rating: rate every entity (`rongxin rating run`), portraits "
    "(`rongxin rating show USCC`), train scorecards (`rongxin rating train`) and score files "
    "(`rongxin rating score`).",
    no_args_is_help=True,
)

OUTPUT_SUFFIXES = (".parquet", ".csv")


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _output(path: Path, *, allowed: tuple[str, ...], what: str) -> None:
    if path.suffix.lower() not in allowed:
        raise ScorecardInputError(
            f"{path}: write {what} to a {' or '.join(allowed)} file", file=str(path)
        )
    if not path.parent.is_dir():
        raise ScorecardInputError(
            f"{path}: the folder {path.parent} does not exist", file=str(path)
        )


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed to it only when the block succeeds."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.partial")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _one_shot() -> Iterator[None]:
    """A command that builds many objects once and then ends the process: Python's cyclic
    garbage collector pauses while it runs (each pass would walk every object importing ibis
    made), and what exists at the end is frozen, so the interpreter's last collections on exit
    skip it — 0.15 s of a ``rating score``. Reference counting frees as always; in a process
    that goes on (tests), cycles among the frozen objects are never collected."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@app.command("train")
def train(
    data: Path = typer.Option(..., "--data", help="Loan outcomes: a CSV or Parquet file."),
    target: str = typer.Option(..., "--target", help="The outcome column."),
    bad: str = typer.Option(..., "--bad", help="The outcome value of a bad loan (the event)."),
    output: Path = typer.Option(..., "--output", "-o", help="Write the scorecard (JSON) here."),
    test_size: float = typer.Option(0.3, "--test-size", help="Share of rows held out (0–1)."),
    seed: int = typer.Option(42, "--seed", help="Seed of the stratified held-out split."),
    name: str | None = typer.Option(None, "--name", help="Scorecard name (default: file stem)."),
    version: str = typer.Option("1", "--version", help="Scorecard version."),
    exclude: list[str] = typer.Option(
        [], "--exclude", help="A column not to use (e.g. an id); repeat for more."
    ),
    categorical: list[str] = typer.Option(
        [], "--categorical", help="A numeric column to bin as categories; repeat for more."
    ),
    monotonic_trend: str = typer.Option(
        "auto_asc_desc",
        "--monotonic-trend",
        help="optbinning's monotonic trend for numerical variables (auto_asc_desc, ascending, "
        "descending, auto, peak, valley, none …).",
    ),
    max_n_bins: int | None = typer.Option(None, "--max-n-bins", help="At most this many bins."),
    pdo: float = typer.Option(20, "--pdo", help="Points to double the odds."),
    odds: float = typer.Option(50, "--odds", help="Good:bad odds at --points."),
    points: float = typer.Option(600, "--points", help="Score at --odds."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the result (metrics, fingerprint, reference) as JSON."
    ),
) -> None:
    """Train a scorecard on loan outcomes and write it as portable JSON.

    Optimal binning (optbinning), WoE, logistic regression and PDO points on a stratified
    split; the held-out AUC, KS and Gini are the written card's own."""
    from pydantic import ValidationError

    from rongxin.errors import InvalidInput
    from rongxin.rating.schemas import TrainingOptions
    from rongxin.rating.scorecards import dump_scorecard
    from rongxin.rating.training import train_scorecard

    _output(output, allowed=(".json",), what="the scorecard")
    try:
        options = TrainingOptions(
            target=target,
            bad=bad,
            name=name or data.stem,
            version=version,
            test_size=test_size,
            seed=seed,
            exclude=tuple(exclude),
            categorical=tuple(categorical),
            monotonic_trend=monotonic_trend,
            max_n_bins=max_n_bins,
            pdo=pdo,
            odds=odds,
            scorecard_points=points,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"--{field.replace('_', '-')}: {first['msg']}") from exc
    started = time.perf_counter()
    trained = train_scorecard(data, options=options)
    result = trained.result
    with _atomic(output) as tmp:
        tmp.write_text(dump_scorecard(result.spec), encoding="utf-8")
    m = result.metrics
    _say(
        f"✓ 评分卡 scorecard {result.spec.name!r} {result.spec.version}: "
        f"{len(result.spec.variables)} variables → {output} "
        f"(held-out {m.rows:,} rows: AUC {m.auc:.4f}, KS {m.ks:.4f}, Gini {m.gini:.4f}; "
        f"{time.perf_counter() - started:.1f} s)"
    )
    if as_json:
        typer.echo(result.model_dump_json())


@app.command("score")
@_one_shot()
def score(
    model: Path = typer.Option(..., "--model", help="A portable scorecard (JSON)."),
    input: Path = typer.Option(..., "--input", help="Rows to score: a CSV or Parquet file."),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Write scores here (.parquet or .csv)."
    ),
    engine: Engine = typer.Option(Engine.duckdb, "--engine", help="duckdb (embedded) or spark."),
    id_column: list[str] = typer.Option(
        [], "--id-column", help="A column to carry through (e.g. uscc); repeat for more."
    ),
    reasons: int = typer.Option(
        0, "--reasons", help="Add reason_1…reason_N: the variables that lost most points."
    ),
) -> None:
    """Score every row of a file with a portable scorecard; the data stays where it is."""
    from rongxin.rating import engines
    from rongxin.rating.scorecard_scoring import check_columns, load_input, scored_table
    from rongxin.rating.scorecards import load_scorecard

    _output(output, allowed=OUTPUT_SUFFIXES, what="scores")
    spec = load_scorecard(model)
    started = time.perf_counter()
    con = engines.connect(engine)
    try:
        table = load_input(con, input)
        check_columns(spec, table, source=str(input))
        absent = [c for c in id_column if c not in table.columns]
        if absent:
            raise ScorecardInputError(
                f"{input}: no column {', '.join(repr(a) for a in absent)} (--id-column)",
                file=str(input),
                columns=absent,
            )
        expr = scored_table(spec, table, keep=list(dict.fromkeys(id_column)), reasons=reasons)
        with _atomic(output) as tmp:
            try:
                if output.suffix.lower() == ".parquet":
                    rows = engines.write_parquet(con, expr, tmp)
                else:
                    import pyarrow.csv as pacsv

                    result = engines.collect(con, expr)
                    rows = result.num_rows
                    pacsv.write_csv(result, tmp)
            except RongxinError:
                raise
            except Exception as exc:  # the engine met a value it cannot read or compare
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                raise ScorecardInputError(
                    f"{input}: scoring failed: {reason}", file=str(input)
                ) from exc
    finally:
        con.disconnect()
    _say(
        f"✓ 已评分 {rows:,} rows scored with {spec.name!r} {spec.version} on {engine.value} "
        f"→ {output} ({time.perf_counter() - started:.1f} s)"
    )


# ---- the platform's full-coverage rating (E1) ----------------------------------------------------


@app.command("run")
def run(
    as_of: str = typer.Option(..., "--as-of", help="Rate as of this date (YYYY-MM-DD)."),
    engine: Engine = typer.Option(Engine.duckdb, "--engine", help="duckdb (embedded) or spark."),
    if_none: bool = typer.Option(
        False, "--if-none", help="Do nothing when a completed run already exists (demo setup)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the run as JSON."),
) -> None:
    """Rate every entity on the node with the indicator system in force (one transaction)."""
    from datetime import date

    from rongxin.catalog import service as catalog_service
    from rongxin.cli_support import cli_session, emit_json, settings_or_exit
    from rongxin.errors import InvalidInput
    from rongxin.rating import batch
    from rongxin.rating.indicators import load_system
    from rongxin.rating.schemas import RatingRunRead

    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise InvalidInput(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
    settings = settings_or_exit()
    catalog = catalog_service.load_catalog(settings.catalog_path)
    with cli_session(settings) as session:
        system = load_system(settings.indicator_system_path)
        if if_none and batch.previous_run(session, system_code=system.code) is not None:
            _say("✓ 已有评价结果 a completed rating run exists; nothing to do (--if-none)")
            return

        def progress(stage: str, done: int, total: int) -> None:
            if done == 0 or done == total:
                _say(f"  {stage}: {done:,}/{total:,}")

        found = batch.run_rating(
            session,
            catalog=catalog,
            as_of=day,
            engine=engine,
            triggered_by="cli",
            settings=settings,
            progress=progress,
        )
        read = RatingRunRead.model_validate(found)
    if json_out:
        emit_json(read.model_dump(mode="json"))
        return
    grades = ", ".join(f"{g} {n:,}" for g, n in sorted((read.grade_counts or {}).items()))
    _say(
        f"✓ 评价完成 rated {read.entity_count:,} entities as of {read.as_of} with "
        f"{read.system_code} {read.system_version} on {read.engine} in {read.seconds} s; "
        f"{read.changed_count:,} grade changes; run {read.id}\n  {grades}"
    )


@app.command("runs")
def runs(limit: int = typer.Option(20, "--limit", min=1, max=200)) -> None:
    """Rating runs, newest first (JSON lines)."""
    from rongxin.cli_support import cli_session, emit_json
    from rongxin.rating import service

    with cli_session() as session:
        for found in service.list_runs(session, limit=limit):
            emit_json(found.model_dump(mode="json"))


@app.command("show")
def show(uscc: str = typer.Argument(..., help="The entity's USCC.")) -> None:
    """An entity's rating portrait: score, grade, sheet, peers, improvements, history (JSON).
    Read at the node's console; it is logged like any other read."""
    from rongxin.audit import service as audit_service
    from rongxin.audit.schemas import AccessEvent, ActorKind, Outcome
    from rongxin.cli_support import cli_session, emit_json, settings_or_exit
    from rongxin.rating import service

    settings = settings_or_exit()
    with cli_session(settings) as session:
        found = service.portrait(session, uscc=uscc.strip().upper(), settings=settings)
        audit_service.append(
            session,
            [
                AccessEvent(
                    action="rating.view",
                    actor_kind=ActorKind.operator,
                    actor_code="cli",
                    uscc=found.uscc,
                    outcome=Outcome.allowed,
                    detail=f"rating run {found.run_id}",
                )
            ],
            settings=settings,
        )
    emit_json(found.model_dump(mode="json"))


@app.command("features")
def features() -> None:
    """The rating features scorecards and the indicator system can use (JSON lines)."""
    from rongxin.cli_support import emit_json, settings_or_exit
    from rongxin.rating.features import load_features

    settings = settings_or_exit()
    for feature in load_features(settings.rating_features_path).features:
        emit_json(feature.model_dump(mode="json", exclude_defaults=True))
