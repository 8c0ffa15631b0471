"""The bulk writer's producer thread: results arrive in order, errors on either side surface."""

from __future__ import annotations

import polars as pl
import pytest

from rongxin.db import bulk


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
