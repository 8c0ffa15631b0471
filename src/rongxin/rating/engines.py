"""Analytics engines (STYLE.md, "Analytics"): the same ibis expressions run embedded on DuckDB
(the default) and, unchanged, on Apache Spark for national scale.

Inputs arrive as Arrow tables or as Parquet/CSV files; results leave as Arrow tables or Parquet
files. Nothing here knows what is computed: features, the indicator system and scorecards are
expressions built elsewhere and handed to :func:`collect` or :func:`write_parquet`.

On DuckDB a file is read and written without pyarrow (0.1 s of a command's start-up): its
schema comes from ``DESCRIBE`` and the rows leave through ``COPY … TO``.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from rongxin.rating.errors import EngineUnavailable

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa
    from ibis.backends import BaseBackend


class Engine(StrEnum):
    duckdb = "duckdb"  # embedded, the default
    spark = "spark"  # Apache Spark (local mode here; a cluster's master URL in production)


_SPARK_LOCK = threading.Lock()

#: a map's value for a key; NULL when the key is absent or NULL. Spark's own function; on
#: DuckDB a macro of the same name for ``map_extract_value`` (defined by :func:`connect`), so
#: one expression calls it on both (see :func:`map_value`)
MAP_VALUE_FUNCTION: Final = "try_element_at"


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
        con = ibis.duckdb.connect(**config)
        con.raw_sql(
            f"CREATE TEMP MACRO {MAP_VALUE_FUNCTION}(m, k) AS map_extract_value(m, k)"
        )  # expanded where it is called: no cost per row
        return con
    session = _spark_session(threads, spark_master, spark_driver_memory)  # before `ibis.pyspark`,
    return ibis.pyspark.connect(session)  # whose import fails without pyspark, less clearly


def _spark_session(threads: int | None, master: str | None, driver_memory: str) -> Any:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise EngineUnavailable(
            "the spark engine needs a Java runtime (17 or newer): install one (Debian: "
            "openjdk-17-jre-headless) or use --engine duckdb"
        )
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # the spark extra is not installed
        raise EngineUnavailable(
            "the spark engine needs pyspark, which a base install leaves out: "
            "pip install 'rongxin[spark]', or use --engine duckdb"
        ) from None
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


def map_value(mapping: ir.MapValue, key: ir.Value) -> ir.Value:
    """The value of ``key`` in ``mapping`` (NULL when ``key`` is absent or NULL): one function
    call on every engine (:data:`MAP_VALUE_FUNCTION`). On DuckDB a lookup in a map of a dozen
    texts takes about half the time of a CASE testing them in turn; ibis's own ``MapGet``
    wraps the lookup in CASEs per row there and loses the gain."""
    return _map_value_udf(mapping.type(), key.type())(mapping, key)


@functools.cache
def _map_value_udf(map_type: Any, key_type: Any) -> Callable[..., ir.Value]:  # ibis DataTypes
    import ibis

    def map_value(mapping: Any, key: Any) -> Any:  # pragma: no cover - the engine's function
        """A builtin function; never called in Python."""

    return ibis.udf.scalar.builtin(  # type: ignore[no-any-return]
        map_value, name=MAP_VALUE_FUNCTION, signature=((map_type, key_type), map_type.value_type)
    )


def load(
    con: BaseBackend,
    name: str,
    source: pa.Table | Path,
    *,
    csv_types: Sequence[str] | None = None,
) -> ir.Table:
    """``source`` (an Arrow table, or a Parquet or CSV file) as a table of ``con`` (files are
    registered as ``name``; ``csv_types``: on DuckDB, the only types a CSV column may be read
    as).
    An Arrow table becomes an in-memory table that ``con`` registers when it runs an
    expression (DuckDB reads it in place; Spark makes a temporary view) — never a file."""
    import ibis

    if not isinstance(source, Path):  # an Arrow table (pyarrow is imported only when used)
        return ibis.memtable(source)
    suffix = source.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise EngineUnavailable(f"{source}: read Parquet (.parquet) or CSV (.csv) files")
    if con.name == "duckdb":
        return _duckdb_file(con, name, source, csv_types=csv_types)
    if suffix == ".parquet":
        return con.read_parquet(source, table_name=name)
    return con.read_csv(source, table_name=name)


def _sql_text(value: str) -> str:
    """``value`` as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _duckdb_file(
    con: BaseBackend, name: str, path: Path, *, csv_types: Sequence[str] | None
) -> ir.Table:
    """The file ``path`` as the temporary view ``name`` on DuckDB, made as ibis's
    ``read_parquet`` and ``read_csv`` make it, with the schema read by ``DESCRIBE`` (ibis
    fetches it as Arrow, importing pyarrow). The table is named, not bound: run it with ``con``
    (:func:`collect`, :func:`write_parquet`)."""
    import ibis

    if path.suffix.lower() == ".parquet":
        reader = f"read_parquet({_sql_text(str(path))})"
    else:
        options = "header = true, auto_detect = true"
        if csv_types is not None:
            options += f", auto_type_candidates = [{', '.join(map(_sql_text, csv_types))}]"
        reader = f"read_csv({_sql_text(str(path))}, {options})"
    view = '"' + name.replace('"', '""') + '"'
    view_sql = f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {reader}"  # noqa: S608
    con.raw_sql(view_sql)  # (the name and the path are quoted above)
    described = con.raw_sql(f"DESCRIBE {view}").fetchall()  # name, type, null, …
    to_ibis = con.compiler.type_mapper.from_string
    schema = {
        column: to_ibis(sql_type, nullable=null == "YES")
        for column, sql_type, null, *_ in described
    }
    return ibis.table(schema, name=name)


def collect(con: BaseBackend, expr: ir.Table) -> pa.Table:
    """Run ``expr`` on ``con`` and return its rows as an Arrow table."""
    return con.to_pyarrow(expr)


def write_parquet(con: BaseBackend, expr: ir.Table, path: Path) -> int:
    """Run ``expr`` on ``con`` and write its rows to ``path`` (Parquet); returns how many.

    On DuckDB one ``COPY … TO`` statement, whose answer is the row count (no Arrow, no second
    read of the file); elsewhere through Arrow."""
    if con.name == "duckdb":
        # raw_sql answers DuckDB's connection itself: read it, never close it
        target = _sql_text(str(path))
        cursor = con.raw_sql(f"COPY ({con.compile(expr)}) TO {target} (FORMAT 'parquet')")
        row = cursor.fetchone()
        return int(row[0]) if row else 0
    import pyarrow.parquet as pq

    table = collect(con, expr)
    pq.write_table(table, path)
    return int(table.num_rows)
