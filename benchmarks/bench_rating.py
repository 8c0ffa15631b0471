"""Benchmark full-coverage batch rating (E1) at 1,000,000 entities.

The database is built with the platform's own ingestion from a synth package (the registry and
every publicly disclosable item, as for the report benchmark). Then, in one run:

1. **end to end on DuckDB**: ``rongxin.rating.batch.run_rating`` in one transaction — read the
   features' records through the policy decision point and the registry, compute features,
   indicator points, score, grade, vetoes, depth and peer percentiles in DuckDB, add reasons and
   the indicator sheet, insert one ``entity_rating`` row per entity, record grade changes
   against the previous run, commit (the goal: ≤ 60 s on 2 cores);
2. **the baseline**: reading the same inputs alone (the records reader and the registry into
   Polars) — the floor any rating of this data pays;
3. **Spark**: the same expression on the same inputs in Spark local mode, and a check that
   every row equals DuckDB's.

    .venv/bin/python benchmarks/bench_rating.py --entities 1000000 \\
        --database-url sqlite:///var/bench/rating1m.db --synth var/bench/large
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from rongxin.access import policy
from rongxin.catalog import service as catalog_service
from rongxin.config import Settings
from rongxin.db import migrate
from rongxin.db.session import build_engine, session_factory, session_scope
from rongxin.entities import service as entities_service
from rongxin.entities.models import MarketEntity
from rongxin.rating import batch, engines
from rongxin.rating.engines import Engine
from rongxin.rating.features import load_features
from rongxin.rating.indicators import load_system

sys.path.insert(0, str(Path(__file__).parent))
from bench_reports import load_records

AS_OF = date(2026, 9, 30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--synth", type=Path, required=True, help="the synth package folder")
    parser.add_argument("--runs", type=int, default=2, help="DuckDB runs (the 2nd has changes)")
    parser.add_argument("--spark", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--spark-memory", default="6g")
    args = parser.parse_args()
    settings = Settings(database_url=args.database_url, spark_driver_memory=args.spark_memory)
    engine = build_engine(settings)
    migrate.upgrade(engine)
    out: dict[str, Any] = {"database": engine.dialect.name}
    with engine.connect() as conn:
        entities = conn.scalar(select(func.count()).select_from(MarketEntity)) or 0
    if entities == 0:
        start = time.perf_counter()
        out["records_loaded"] = load_records(engine, args.synth)
        out["ingest_seconds"] = round(time.perf_counter() - start, 1)
    factory = session_factory(engine)
    catalog = catalog_service.load_catalog()
    system = load_system()
    features = system.used_features(load_features())

    # the baseline: read the inputs, nothing else
    start = time.perf_counter()
    with session_scope(factory) as session:
        items = [catalog.item(c) for c in features.items()]
        records = policy.evaluation_records(session, items=items, fields=features.fields())
        registry = entities_service.registry_frame(session)
    out["read_inputs_seconds"] = round(time.perf_counter() - start, 1)
    out["entities"], out["input_records"] = registry.height, records.height

    runs = []
    for _ in range(args.runs):
        start = time.perf_counter()
        with session_scope(factory) as session:
            run = batch.run_rating(
                session, catalog=catalog, as_of=AS_OF, triggered_by="bench", settings=settings
            )
            summary = {"entities": run.entity_count, "changed": run.changed_count}
        summary["seconds"] = round(time.perf_counter() - start, 1)
        runs.append(summary)
    out["duckdb_runs"] = runs
    best = min(r["seconds"] for r in runs)
    out["duckdb_end_to_end_seconds"] = best
    out["ratio_to_reading_inputs"] = round(best / out["read_inputs_seconds"], 2)

    if args.spark:
        start = time.perf_counter()
        duck = batch.evaluate(system, features, records=records, registry=registry, as_of=AS_OF,
                              con=engines.connect(Engine.duckdb))  # fmt: skip
        out["duckdb_evaluate_seconds"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        spark = batch.evaluate(
            system, features, records=records, registry=registry, as_of=AS_OF,
            con=engines.connect(Engine.spark, spark_driver_memory=args.spark_memory),
        )  # fmt: skip
        out["spark_evaluate_seconds"] = round(time.perf_counter() - start, 1)
        out["spark_identical"] = duck.equals(spark.select(duck.columns).cast(dict(duck.schema)))
        out["rows_compared"] = duck.height
    engine.dispose()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
