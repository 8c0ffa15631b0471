"""The bulk writer's producer thread: results arrive in order, errors on either side surface;
the small many-row inserts of hot paths write what SQLAlchemy would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from rongxin.audit.models import AuditEntryItem
from rongxin.db import bulk
from rongxin.reports.models import ReportIssue


def test_prepared_slices_arrive_in_order_with_the_transform() -> None:
    frame = pl.DataFrame({"n": list(range(120_001))})
    parts = list(
        bulk._prepared(frame, lambda p: p.with_columns(m=pl.col("n") * 2), lambda p: p.rows())
    )
    assert [rows for rows, _ in parts] == [50_000, 50_000, 20_001]
    flat = [row for _, tuples in parts for row in tuples]
    assert flat[0] == (0, 0)
    assert flat[-1] == (120_000, 240_000)


def test_an_error_while_preparing_reaches_the_writer() -> None:
    def explode(part: pl.DataFrame) -> pl.DataFrame:
        if part["n"][0] >= 50_000:
            raise ValueError("bad slice")
        return part

    frame = pl.DataFrame({"n": list(range(100_000))})
    with pytest.raises(ValueError, match="bad slice"):
        list(bulk._prepared(frame, explode, lambda p: p.rows()))


def test_a_writer_that_stops_early_stops_the_producer() -> None:
    frame = pl.DataFrame({"n": list(range(1_000_000))})
    made: list[int] = []

    def count(part: pl.DataFrame) -> pl.DataFrame:
        made.append(part.height)
        return part

    for _rows, _tuples in bulk._prepared(frame, count, lambda p: p.rows()):
        break  # e.g. the INSERT failed
    assert len(made) < 20  # far from all 20 slices were prepared


def _rows(model: Any, n: int) -> tuple[list[dict[str, Any]], str]:
    """``n`` rows of ``model`` (plain text and numbers, or with a UTC timestamp) and the column
    to sort them back by."""
    if model is AuditEntryItem:
        return [{"seq": k, "item_code": f"item_{k % 3}"} for k in range(7, 7 + n)], "seq"
    at = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
    return [
        {"id": f"r{k:031d}", "uscc": "91350100M000100Y43", "requester_kind": "institution",
         "requester_code": "bank", "purpose": "pre_loan", "format": "json",
         "issued_at": at + timedelta(seconds=k), "record_count": k, "schema_version": "1.0"}
        for k in range(n)
    ], "id"  # fmt: skip


@pytest.mark.parametrize("model", [AuditEntryItem, ReportIssue], ids=["plain", "processed"])
def test_insert_rows_writes_what_sqlalchemy_would(session: Session, model: Any) -> None:
    """``insert_rows`` hands plain rows straight to the driver (text and number columns) and
    any other table (here a UTC timestamp column) to SQLAlchemy: either way the rows read back
    as given, on the test engine."""
    rows, key = _rows(model, 3)
    bulk.insert_rows(session.connection(), model, rows)
    bulk.insert_rows(session.connection(), model, [])  # nothing to write: no statement
    table = model.__table__
    found = session.execute(select(table).order_by(table.c[key])).mappings().all()
    assert [dict(r) for r in found] == rows
    plain = bulk._plain_insert(table, session.get_bind().dialect) is not None
    assert plain is (model is AuditEntryItem)  # the timestamp column needs SQLAlchemy


@pytest.mark.parametrize("model", [AuditEntryItem, ReportIssue], ids=["plain", "processed"])
def test_insert_rows_takes_one_statement_where_executemany_costs_more(
    session: Session, model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: one ``executemany``. PostgreSQL: multi-row VALUES statements, as many as the
    parameter limit needs (lowered here to 2 rows per statement), not one per row."""
    from sqlalchemy import event

    table = model.__table__
    columns = len(table.columns)
    monkeypatch.setattr(bulk, "_MAX_PARAMETERS", 2 * columns)
    rows, key = _rows(model, 5)
    connection = session.connection()
    seen: list[tuple[bool, int]] = []

    def count(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool
    ) -> None:
        if statement.startswith(f"INSERT INTO {table.name}"):
            seen.append((many, statement.count("), (") + 1))

    event.listen(connection, "before_cursor_execute", count)
    try:
        bulk.insert_rows(connection, model, rows)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    if connection.dialect.name == "sqlite":
        assert seen == [(True, 1)]
    else:
        assert seen == [(False, 2), (False, 2), (False, 1)]
    found = session.execute(select(table).order_by(table.c[key])).mappings().all()
    assert [dict(r) for r in found] == rows
