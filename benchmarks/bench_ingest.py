"""Benchmark ingestion (physical aggregation) against the practical limit.

Measured, in one run and on one database:
1. ``ingest_file`` end to end on a fresh database: read, column-wise validation against the
   catalog, payload/key/hash building, versioned upsert, quality — one all-or-nothing batch;
2. re-delivery of the same rows with 10 % changed, through the staged path (classification,
   closing old versions, new versions);
3. the baseline: a raw DB-API ``executemany`` of the same pre-parsed rows (the batch's final
   tuples, built before timing) into an unindexed table with the same columns.

    .venv/bin/python benchmarks/bench_ingest.py --file var/bench/large/power_grid/electricity.csv \
        --rows 5000000 --database-url sqlite:///var/bench/ingest.db
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import polars as pl
from sqlalchemy import text

from rongxin.catalog import service as catalog_service
from rongxin.config import Settings
from rongxin.db import migrate
from rongxin.db.models import metadata
from rongxin.db.session import build_engine, session_factory, session_scope
from rongxin.ingest.service import Delivery, _stage_frame, ingest_file
from rongxin.ingest.validation import read_table, validate_table


def fresh_schema(url: str) -> None:
    engine = build_engine(Settings(database_url=url))
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_raw")
    migrate.upgrade(engine)
    metadata.create_all(engine)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--provider", default="power_grid")
    parser.add_argument("--item", default="electricity")
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--work", type=Path, default=Path("var/bench"))
    args = parser.parse_args()
    catalog = catalog_service.load_catalog()
    item = catalog.item(args.item)
    args.work.mkdir(parents=True, exist_ok=True)

    source = pl.read_csv(args.file, infer_schema=False, n_rows=args.rows)
    data = args.work / f"{args.item}-{source.height}.csv"
    source.write_csv(data)
    changed = source.with_columns(
        pl.when(pl.int_range(pl.len()) % 10 == 0)
        .then((pl.col("amount_paid").cast(pl.Float64) + 1).round(2).cast(pl.String))
        .otherwise(pl.col("amount_paid"))
        .alias("amount_paid")
    )
    changed_path = args.work / f"{args.item}-{source.height}-changed.csv"
    changed.write_csv(changed_path)
    rows = source.height
    del source, changed

    fresh_schema(args.database_url)
    engine = build_engine(Settings(database_url=args.database_url))
    factory = session_factory(engine)

    start = time.perf_counter()
    with session_scope(factory) as session:
        first = ingest_file(
            session, catalog=catalog, origin_node="bench",
            delivery=Delivery(path=data, provider_code=args.provider, item_code=args.item),
        )  # fmt: skip
    fresh_s = time.perf_counter() - start
    assert first.inserted == rows, first

    start = time.perf_counter()
    with session_scope(factory) as session:
        second = ingest_file(
            session, catalog=catalog, origin_node="bench",
            delivery=Delivery(path=changed_path, provider_code=args.provider, item_code=args.item),
        )  # fmt: skip
    staged_s = time.perf_counter() - start

    # Baseline: the same rows, pre-parsed to final tuples before timing, raw executemany into
    # an unindexed table.
    table = read_table(data)
    typed, _ = validate_table(table, item)
    stage = _stage_frame(item, typed, table.frame)
    tuples = stage.select(
        "record_key", "uscc", "payload", pl.col("event_date").cast(pl.String),
        "provider_record_id",
    ).rows()  # fmt: skip
    del table, typed, stage
    pg = engine.dialect.name == "postgresql"
    mark = "%s" if pg else "?"
    ddl = (
        "CREATE TABLE bench_raw (record_key VARCHAR(512), uscc VARCHAR(18), payload TEXT, "
        "event_date VARCHAR(10), provider_record_id VARCHAR(128))"
    )
    insert = f"INSERT INTO bench_raw VALUES ({', '.join([mark] * 5)})"  # noqa: S608
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_raw")
        conn.exec_driver_sql(ddl)
    start = time.perf_counter()
    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for i in range(0, len(tuples), 50_000):
            cursor.executemany(insert, tuples[i : i + 50_000])
    raw_s = time.perf_counter() - start
    with engine.begin() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM bench_raw")).scalar_one() == rows
        conn.exec_driver_sql("DROP TABLE bench_raw")
    engine.dispose()

    print(json.dumps({
        "database": engine.dialect.name,
        "item": args.item,
        "rows": rows,
        "fresh_seconds": round(fresh_s, 1),
        "fresh_rows_per_s": round(rows / fresh_s),
        "staged_seconds": round(staged_s, 1),
        "staged_rows_per_s": round(rows / staged_s),
        "staged_counts": [second.inserted, second.updated, second.unchanged],
        "baseline_executemany_seconds": round(raw_s, 1),
        "baseline_rows_per_s": round(rows / raw_s),
        "fresh_ratio_to_baseline": round(raw_s / fresh_s, 2),
        "staged_ratio_to_baseline": round(raw_s / staged_s, 2),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
