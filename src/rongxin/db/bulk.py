"""Bulk writes through each engine's fast path: COPY on PostgreSQL, executemany elsewhere.

Rows are prepared slice by slice in a producer thread (an optional per-slice transform, then
the DB-API tuples or the COPY text) while the calling thread writes the previous slice: the
database works without the GIL, so preparation and writing overlap on two cores. Memory stays
bounded: at most two prepared slices wait in the queue.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy import Connection, Dialect, Executable, Table, TypeDecorator, insert, literal
from sqlalchemy.orm import DeclarativeBase, Session

BATCH_SIZE = 10_000
SLICE_ROWS = 50_000
Progress = Callable[[str, int, int], None]  # (stage, done, total)
Prepare = Callable[[pl.DataFrame], pl.DataFrame]


def quiet(_stage: str, _done: int, _total: int) -> None:
    """A progress callback that reports nothing (the default)."""
    return None


def fetch_tuples(session: Session, stmt: Executable) -> Sequence[Any]:
    """All rows of ``stmt`` as the driver's plain tuples, for columnar consumers: executed by
    SQLAlchemy in the session's transaction (parameters bound as usual), fetched straight from
    the DB-API cursor — no ``Row`` objects, no result-type processing (select text and numbers,
    and type the columns afterwards)."""
    result = session.connection().execute(stmt)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    return rows


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _prepared(
    frame: pl.DataFrame, prepare: Prepare | None, encode: Callable[[pl.DataFrame], Any]
) -> Iterator[tuple[int, Any]]:
    """(rows, encoded slice) for every slice, made in a producer thread; errors re-raised."""
    done = object()
    slots: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        try:
            for part in frame.iter_slices(SLICE_ROWS):
                if stop.is_set():  # the consumer gave up (its write failed)
                    break
                ready = prepare(part) if prepare is not None else part
                slots.put((ready.height, encode(ready)))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            slots.put(exc)
        slots.put(done)

    worker = threading.Thread(target=produce, name="bulk-prepare", daemon=True)
    worker.start()
    try:
        while (item := slots.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                slots.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)


def _literal(session: Session, value: object) -> str:
    """``value`` as an SQL literal of the session's dialect (quoted and escaped by SQLAlchemy)."""
    rendered = literal(value).compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    return str(rendered)


def bulk_insert(
    session: Session,
    table: Table | str,
    frame: pl.DataFrame,
    progress: Progress = quiet,
    stage: str = "insert",
    prepare: Prepare | None = None,
    constants: Mapping[str, object] | None = None,
) -> None:
    """Insert every row of ``frame`` inside the session's transaction. ``table`` may be a name
    only (staging tables); ``prepare`` transforms each slice first (its output columns must be
    the table's). ``constants`` are columns with the same value in every row: SQLite gets them
    once, as literals in the statement, instead of bound again for every row."""
    total = frame.height
    name = table if isinstance(table, str) else table.name
    constants = dict(constants or {})
    if constants and (is_postgresql(session) or not (isinstance(table, str) or prepare)):
        frame = frame.with_columns(pl.lit(v).alias(k) for k, v in constants.items())
        constants = {}
    columns = (prepare(frame.head(0)) if prepare is not None else frame).columns
    done = 0
    if is_postgresql(session):
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        driver = session.connection().connection.driver_connection
        if driver is None:  # pragma: no cover - a live connection always has one
            raise RuntimeError("no database connection for COPY")

        def as_csv(part: pl.DataFrame) -> str:
            return part.write_csv(include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.f%:z")

        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for rows, text in _prepared(frame, prepare, as_csv):
                copy.write(text)
                done += rows
                progress(stage, done, total)
        return
    if isinstance(table, str) or prepare is not None:
        # The DB-API's own executemany with positional tuples: the fastest path SQLite has.
        values = ["?" for _ in columns] + [_literal(session, v) for v in constants.values()]
        names = [*columns, *constants]
        sql_text = f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join(values)})"  # noqa: S608
        raw = session.connection().exec_driver_sql
        for rows, tuples in _prepared(frame, prepare, lambda part: part.rows()):
            raw(sql_text, tuples)
            done += rows
            progress(stage, done, total)
        return
    for batch in frame.iter_slices(BATCH_SIZE):
        session.execute(insert(table), batch.to_dicts())
        done += batch.height
        progress(stage, done, total)


# ---- small many-row inserts on a hot path -------------------------------------------------------

_PLAIN_INSERTS: dict[tuple[str, ...], tuple[str, tuple[str, ...] | None] | None] = {}


def _plain_insert(table: Table, dialect: Dialect) -> tuple[str, tuple[str, ...] | None] | None:
    """The INSERT of every column of ``table`` compiled for ``dialect`` — its SQL and, for a
    positional paramstyle, the order of the parameters — or ``None`` when a column's type
    processes values on the way in (such tables go through SQLAlchemy)."""
    key = (table.fullname, dialect.name, dialect.driver, dialect.paramstyle)  # SQL per driver
    if key not in _PLAIN_INSERTS:
        plain = all(c.type.bind_processor(dialect) is None for c in table.columns) and all(
            not isinstance(c.type, TypeDecorator) for c in table.columns
        )
        compiled = insert(table).compile(dialect=dialect)
        positions = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        _PLAIN_INSERTS[key] = (str(compiled), positions) if plain else None
    return _PLAIN_INSERTS[key]


def insert_rows(
    connection: Connection, model: type[DeclarativeBase], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows`` (dicts with every column of ``model``'s table) in the connection's
    transaction, in one statement where the driver's own ``executemany`` costs more.

    - SQLite: one ``executemany``. For a table of plain text and number columns the rows go to
      the driver as they are, in its own parameter style (SQLAlchemy's per-row parameter
      processing costs more than the insert itself for a few hundred small rows); any other
      table through SQLAlchemy's ``insert``.
    - PostgreSQL (psycopg): one ``INSERT … VALUES (…), (…), …`` per 65,535 parameters, each
      value through its column type's bind processing, with the casts SQLAlchemy renders.
      psycopg's ``executemany`` pipelines one statement per row, whose Python side cost
      2.4 times as much for a dozen rows (docs/benchmarks.md)."""
    if not rows:
        return
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    if connection.dialect.paramstyle == "pyformat":
        _insert_multi_values(connection, table, rows)
        return
    plain = _plain_insert(table, connection.dialect)
    if plain is None:
        connection.execute(insert(table), list(rows))
        return
    sql_text, positions = plain
    if positions is None:
        connection.exec_driver_sql(sql_text, list(rows))
    else:
        connection.exec_driver_sql(sql_text, [tuple(r[p] for p in positions) for r in rows])


#: (table, dialect) → the INSERT up to VALUES, one row's placeholders (``%s`` with SQLAlchemy's
#: casts), and the columns in placeholder order with their bind processors
_MULTI_VALUES: dict[tuple[str, ...], tuple[str, str, tuple[tuple[str, Any], ...]]] = {}

#: PostgreSQL's limit of parameters in one statement
_MAX_PARAMETERS = 65_535

_NAMED = re.compile(r"%\((\w+)\)s")


def _insert_multi_values(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    dialect = connection.dialect
    key = (table.fullname, dialect.name, dialect.driver)
    if key not in _MULTI_VALUES:
        compiled = insert(table).compile(dialect=dialect)
        head, _, one_row = str(compiled).partition(" VALUES ")
        names = _NAMED.findall(one_row)
        by_key = {c.key: c for c in table.columns}
        processors = tuple((n, by_key[n].type.bind_processor(dialect)) for n in names)
        _MULTI_VALUES[key] = (f"{head} VALUES ", _NAMED.sub("%s", one_row), processors)
    head, row, processors = _MULTI_VALUES[key]
    per_statement = max(1, _MAX_PARAMETERS // len(processors))
    for start in range(0, len(rows), per_statement):
        part = rows[start : start + per_statement]
        values = [r[name] if fn is None else fn(r[name]) for r in part for name, fn in processors]
        connection.exec_driver_sql(head + ", ".join([row] * len(part)), tuple(values))
