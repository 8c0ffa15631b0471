"""Analytics engines (STYLE.md, "Analytics"): the same ibis expressions run embedded on DuckDB
(the default) and, unchanged, on Apache Spark for national scale.

Inputs arrive as Arrow tables or as Parquet/CSV files; results leave as Arrow tables or Parquet
files. Nothing here knows what is computed: features, the indicator system and scorecards are
expressions built elsewhere and handed to :func:`collect` or :func:`write_parquet`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rongxin.rating.errors import EngineUnavailable

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa
    from ibis.backends import BaseBackend


class Engine(StrEnum):
    duckdb = "duckdb"  # embedded, the default
    spark = "spark"  # Apache Spark (local mode here; a cluster's master URL in production)


_SPARK_LOCK = threading.Lock()


def connect(
    engine: Engine = Engine.duckdb,
    *,
    threads: int | None = None,
    spark_master: str | None = None,
    spark_driver_memory: str = "2g",
) -> BaseBackend:
    """A fresh connection to ``engine``. DuckDB runs in memory in this process; Spark runs in
    local mode with ``threads`` cores unless ``spark_master`` names a cluster
    (``RONGXIN_SPARK_MASTER``)."""
    import ibis

    if engine is Engine.duckdb:
        config: dict[str, Any] = {}
        if threads is not None:
            config["threads"] = threads
        return ibis.duckdb.connect(**config)
    return ibis.pyspark.connect(_spark_session(threads, spark_master, spark_driver_memory))


def _spark_session(threads: int | None, master: str | None, driver_memory: str) -> Any:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise EngineUnavailable(
            "the spark engine needs a Java runtime (17 or newer): install one (Debian: "
            "openjdk-17-jre-headless) or use --engine duckdb"
        )
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - pyspark is a dependency
        raise EngineUnavailable("pyspark is not installed; use --engine duckdb") from None
    master = master or f"local[{threads or '*'}]"
    with _SPARK_LOCK:  # getOrCreate is not safe to race
        session = (
            SparkSession.builder.master(master)
            .appName("rongxin-rating")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            # nothing is written as a managed table; keep Spark's scratch out of the cwd
            .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="rongxin-spark-"))
            .config("spark.sql.shuffle.partitions", str(max(2, (threads or 2) * 2)))
            .config("spark.driver.memory", driver_memory)
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        return session


def load(con: BaseBackend, name: str, source: pa.Table | Path) -> ir.Table:
    """``source`` (an Arrow table, or a Parquet or CSV file) as a table of ``con`` (files are
    registered as ``name``).
    An Arrow table becomes an in-memory table that ``con`` registers when it runs an
    expression (DuckDB reads it in place; Spark makes a temporary view) — never a file."""
    import ibis

    if not isinstance(source, Path):  # an Arrow table (pyarrow is imported only when used)
        return ibis.memtable(source)
    suffix = source.suffix.lower()
    if suffix == ".parquet":
        return con.read_parquet(source, table_name=name)
    if suffix == ".csv":
        return con.read_csv(source, table_name=name)
    raise EngineUnavailable(f"{source}: read Parquet (.parquet) or CSV (.csv) files")


def collect(con: BaseBackend, expr: ir.Table) -> pa.Table:
    """Run ``expr`` on ``con`` and return its rows as an Arrow table."""
    return con.to_pyarrow(expr)


def write_parquet(con: BaseBackend, expr: ir.Table, path: Path) -> int:
    """Run ``expr`` on ``con`` and write its rows to ``path`` (Parquet); returns how many.

    On DuckDB one ``COPY … TO`` statement, whose answer is the row count (no Arrow, no second
    read of the file); elsewhere through Arrow."""
    if con.name == "duckdb":
        target = "'" + str(path).replace("'", "''") + "'"
        # raw_sql answers DuckDB's connection itself: read it, never close it
        cursor = con.raw_sql(f"COPY ({con.compile(expr)}) TO {target} (FORMAT 'parquet')")
        row = cursor.fetchone()
        return int(row[0]) if row else 0
    import pyarrow.parquet as pq

    table = collect(con, expr)
    pq.write_table(table, path)
    return int(table.num_rows)
