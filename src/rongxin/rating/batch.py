"""Full-coverage batch rating (全覆盖评价, E1): every entity on the node in one columnar run.

1. the inputs are read once: the current records of the features' items (through the policy
   decision point, public information only) and the registry;
2. features, the indicator system and each entity's percentile among its peers are one ibis
   expression, run on DuckDB (embedded, the default) or unchanged on Spark;
3. top reasons and the indicator sheet are added column-wise (Polars), and the run's rows are
   bulk-inserted; grade changes against the previous run are found inside the database.

A run is all-or-nothing (the edge commits once); its rows are never updated, so each entity's
rating history is kept.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Final

import numpy as np
import polars as pl
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from rongxin.access import policy
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.db.base import utcnow
from rongxin.db.bulk import Progress, bulk_insert, fetch_tuples, quiet
from rongxin.entities import service as entities_service
from rongxin.rating import engines
from rongxin.rating.engines import Engine
from rongxin.rating.features import PEER_COLUMN, FeatureSet, feature_table, load_features
from rongxin.rating.indicators import IndicatorSystem, load_system, points_column, rating_table
from rongxin.rating.models import EntityRating, RatingRun

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

TOP_REASONS: Final = 3
PLATFORM_SOURCE: Final = "rongxin/data"


def previous_run(session: Session, *, system_code: str) -> RatingRun | None:
    """The latest completed run of the indicator system ``system_code``."""
    stmt = (
        select(RatingRun)
        .where(
            RatingRun.system_code == system_code,
            RatingRun.status == "completed",
            RatingRun.scope == "full",
        )
        .order_by(RatingRun.started_at.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def run_rating(
    session: Session,
    *,
    catalog: Catalog,
    as_of: date,
    triggered_by: str,
    settings: Settings,
    engine: Engine = Engine.duckdb,
    system: IndicatorSystem | None = None,
    features: FeatureSet | None = None,
    progress: Progress = quiet,
    usccs: Sequence[str] | None = None,
) -> RatingRun:
    """Rate every entity as of ``as_of``; returns the completed run (flushed, not committed).

    The feature file and indicator system are the settings' (or the shipped defaults) unless
    given. With ``usccs`` only those entities are re-rated (scope ``entities``: a credit repair
    changed their records); their percentiles are placed among the peers of the latest full run.
    """
    features = features or load_features(settings.rating_features_path)
    system = system or load_system(settings.indicator_system_path)
    features.check_against(catalog, source=PLATFORM_SOURCE)
    system.check_against(features, source=PLATFORM_SOURCE)
    features = system.used_features(features)
    started = time.perf_counter()
    before = previous_run(session, system_code=system.code)
    run = RatingRun(
        id=uuid.uuid4().hex,
        system_code=system.code,
        system_version=system.version,
        features_version=features.version,
        engine=engine.value,
        as_of=as_of,
        status="running",
        started_at=utcnow(),
        triggered_by=triggered_by,
        previous_run_id=before.id if before is not None else None,
        scope="full" if usccs is None else "entities",
    )
    session.add(run)
    session.flush()

    progress("read", 0, 1)
    items = [catalog.item(code) for code in features.items()]
    records = policy.evaluation_records(session, items=items, fields=features.fields(), usccs=usccs)
    registry = entities_service.registry_frame(session, usccs=usccs)
    progress("read", 1, 1)

    progress("evaluate", 0, registry.height)
    con = engines.connect(
        engine,
        spark_master=settings.spark_master,
        spark_driver_memory=settings.spark_driver_memory,
    )
    rated = evaluate(system, features, records=records, registry=registry, as_of=as_of, con=con)
    progress("evaluate", registry.height, registry.height)

    if usccs is not None:
        rated = _placed_among(session, rated, before)
    rows = entity_rows(system, features, rated, run_id=run.id)
    bulk_insert(session, EntityRating.__tablename__, rows, progress, "write ratings")
    changed = 0
    if before is not None:
        inserted = session.execute(text(_CHANGES), {"run": run.id, "previous": before.id})
        changed = int(inserted.rowcount or 0)  # type: ignore[attr-defined]
    counts = rows.group_by("grade").len()
    run.grade_counts = {g: int(n) for g, n in counts.iter_rows()}
    run.entity_count = rows.height
    run.changed_count = changed
    run.status = "completed"
    run.completed_at = utcnow()
    run.seconds = round(time.perf_counter() - started, 3)
    session.flush()
    return run


def _placed_among(session: Session, rated: pl.DataFrame, full: RatingRun | None) -> pl.DataFrame:
    """Percentiles of re-rated entities among their peers in the latest full run (percent
    rank: the share of the other peers scoring lower). One read of those peer groups' scores;
    the counting is sorted-array search per group, not a query per entity."""
    if full is None:
        return rated
    groups = rated[PEER_COLUMN].unique().to_list()
    stmt = select(EntityRating.peer_group, EntityRating.uscc, EntityRating.score).where(
        EntityRating.run_id == full.id, EntityRating.peer_group.in_(groups)
    )
    schema = {PEER_COLUMN: pl.String, "uscc": pl.String, "old": pl.Float64}
    peers = pl.DataFrame(fetch_tuples(session, stmt), schema=schema, orient="row")
    # the entity's own row in the full run is not one of its peers
    own = rated.select("uscc", PEER_COLUMN, "score").join(
        peers, on=["uscc", PEER_COLUMN], how="left"
    )
    lower = np.zeros(own.height, dtype=np.int64)
    total = np.zeros(own.height, dtype=np.int64)
    for (group,), members in own.with_row_index("_row").group_by(PEER_COLUMN):
        scores = np.sort(peers.filter(pl.col(PEER_COLUMN) == group)["old"].to_numpy())
        rows = members["_row"].to_numpy()
        lower[rows] = np.searchsorted(scores, members["score"].to_numpy(), side="left")
        total[rows] = scores.size
    present = own["old"].is_not_null().to_numpy()
    self_lower = present & (own["old"].fill_null(np.inf).to_numpy() < own["score"].to_numpy())
    total -= present
    lower -= self_lower
    percentile = np.where(total > 0, 100.0 * lower / np.maximum(total, 1), 0.0)
    placed = own.select("uscc").with_columns(pl.Series("percentile", percentile))
    return rated.drop("percentile").join(placed, on="uscc", how="left").select(rated.columns)


def rerate(
    session: Session,
    *,
    catalog: Catalog,
    settings: Settings,
    usccs: Sequence[str],
    as_of: date,
    triggered_by: str,
) -> RatingRun | None:
    """Re-rate ``usccs`` now (after a credit repair), if the platform rates at all (a full run
    exists); returns the run."""
    system = load_system(settings.indicator_system_path)
    if previous_run(session, system_code=system.code) is None:
        return None
    return run_rating(
        session,
        catalog=catalog,
        as_of=as_of,
        triggered_by=triggered_by,
        settings=settings,
        system=system,
        usccs=usccs,
    )


_CHANGES = (
    "INSERT INTO rating_change (run_id, previous_run_id, uscc, previous_grade, grade, "
    "previous_score, score) "
    "SELECT n.run_id, p.run_id, n.uscc, p.grade, n.grade, p.score, n.score "
    "FROM entity_rating n JOIN entity_rating p ON p.run_id = :previous AND p.uscc = n.uscc "
    "WHERE n.run_id = :run AND n.grade <> p.grade"
)


def evaluate(
    system: IndicatorSystem,
    features: FeatureSet,
    *,
    records: pl.DataFrame,
    registry: pl.DataFrame,
    as_of: date,
    con: BaseBackend,
) -> pl.DataFrame:
    """The engine's part: features, indicator points, score, grade, depth and percentile for
    every registry entity (sorted by USCC), on the engine behind ``con`` (which this closes).
    Identical on every engine."""
    import ibis

    try:
        recs = engines.load(con, "rating_records", records.to_arrow())
        reg = engines.load(con, "rating_registry", registry.to_arrow())
        table = rating_table(
            system, feature_table(features, records=recs, registry=reg, as_of=as_of), as_of=as_of
        )
        peers = ibis.window(group_by=table[PEER_COLUMN], order_by=table.weighted)
        table = table.mutate(percentile=ibis.percent_rank().over(peers) * 100)
        wanted = [
            "uscc",
            *features.codes,
            *(points_column(i.code) for i in system.indicators),
            "weighted",
            "score",
            "grade",
            "veto",
            "data_sources",
            "data_depth",
            PEER_COLUMN,
            "percentile",
        ]
        out = engines.collect(con, table.select(*wanted).order_by("uscc"))
    finally:
        con.disconnect()
    frame = pl.from_arrow(out)
    assert isinstance(frame, pl.DataFrame)  # noqa: S101 - a table gives a frame
    return frame


def entity_rows(
    system: IndicatorSystem, features: FeatureSet, rated: pl.DataFrame, *, run_id: str
) -> pl.DataFrame:
    """The ``entity_rating`` rows of a run: top reasons and the indicator sheet, column-wise.

    A reason is an indicator that lost points, weighted as in the score; the worst
    :data:`TOP_REASONS` are kept, ties broken by the system's order. The sheet is JSON text
    ``{"v": [feature values], "p": [indicator points]}`` in the system's order.
    """
    indicators = system.indicators
    coeff, _ = system.coefficients()
    k = len(indicators)
    # loss × k + (k − 1 − position): unique within a row, so the largest is one indicator
    keyed = [
        (
            (pl.lit(i.max_points) - pl.col(points_column(i.code))) * coeff[i.code] * k + (k - 1 - n)
        ).alias(f"_k{n}")
        for n, i in enumerate(indicators)
    ]
    losses = rated.select(keyed)
    cols = [pl.col(f"_k{n}") for n in range(k)]
    top = "_top0"
    losses = losses.with_columns(pl.max_horizontal(cols).alias(top))
    for rank in range(1, TOP_REASONS):  # each next-largest below the previous one
        below = [pl.when(c < pl.col(f"_top{rank - 1}")).then(c) for c in cols]
        losses = losses.with_columns(pl.max_horizontal(below).alias(f"_top{rank}"))
    codes = [i.code for i in indicators]

    def named(column: str) -> pl.Expr:
        value = pl.col(column)
        position = (k - 1) - (value % k)
        return pl.when(value >= k).then(position.replace_strict(list(range(k)), codes))

    reasons = losses.select(
        pl.concat_str(
            [named(f"_top{r}") for r in range(TOP_REASONS)], separator=",", ignore_nulls=True
        ).alias("reasons")
    )["reasons"]
    sheet = rated.select(
        pl.concat_str(
            [
                pl.lit('{"v":['),
                pl.concat_str([_json_value(rated, c) for c in features.codes], separator=","),
                pl.lit('],"p":['),
                pl.concat_str([pl.col(points_column(i.code)) for i in indicators], separator=","),
                pl.lit("]}"),
            ]
        ).alias("sheet")
    )["sheet"]
    return rated.select(
        pl.lit(run_id).alias("run_id"),
        "uscc",
        pl.col("score").round(2),
        "grade",
        "veto",
        "data_sources",
        "data_depth",
        pl.col(PEER_COLUMN).alias("peer_group"),
        pl.col("percentile").round(2),
    ).with_columns(reasons.fill_null(""), sheet)


def _json_value(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A column's values as JSON text (numbers as numbers, text quoted, null as null)."""
    col = pl.col(column)
    if frame.schema[column].is_numeric():
        if frame.schema[column].is_float():
            col = col.fill_nan(None)
        return col.cast(pl.String).fill_null("null")
    escaped = col.cast(pl.String).str.replace_all("\\", "\\\\", literal=True)
    escaped = escaped.str.replace_all('"', '\\"', literal=True)
    escaped = escaped.str.replace_all(r"[\x00-\x1f]", " ")
    return pl.concat_str([pl.lit('"'), escaped, pl.lit('"')]).fill_null("null")
