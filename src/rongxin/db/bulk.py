"""Bulk writes through each engine's fast path: COPY on PostgreSQL, executemany elsewhere."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

BATCH_SIZE = 10_000
Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def bulk_insert(
    session: Session,
    table: Table | str,
    frame: pl.DataFrame,
    progress: Progress = _quiet,
    stage: str = "insert",
) -> None:
    """Insert every row of ``frame`` (its columns named as the table's) inside the session's
    transaction. ``table`` may be a name only (for temporary staging tables)."""
    total = frame.height
    name = table if isinstance(table, str) else table.name
    if is_postgresql(session):
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, frame.columns))
        )
        driver = session.connection().connection.driver_connection
        if driver is None:  # pragma: no cover - a live connection always has one
            raise RuntimeError("no database connection for COPY")
        done = 0
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for batch in frame.iter_slices(BATCH_SIZE * 10):
                copy.write(
                    batch.write_csv(include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.f%:z")
                )
                done += batch.height
                progress(stage, done, total)
        return
    if isinstance(table, str):
        # The DB-API's own executemany with positional tuples: the fastest path SQLite has.
        columns = ", ".join(frame.columns)
        marks = ", ".join("?" for _ in frame.columns)
        raw = session.connection().exec_driver_sql
        sql_text = f"INSERT INTO {name} ({columns}) VALUES ({marks})"  # noqa: S608 - names are ours
        done = 0
        for batch in frame.iter_slices(BATCH_SIZE * 5):
            raw(sql_text, batch.rows())
            done += batch.height
            progress(stage, done, total)
        return
    done = 0
    for batch in frame.iter_slices(BATCH_SIZE):
        session.execute(insert(table), batch.to_dicts())
        done += batch.height
        progress(stage, done, total)
