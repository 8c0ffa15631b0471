"""Delivery files: CSV (UTF-8 or GB18030), JSONL or Parquet, written chunk by chunk."""

from __future__ import annotations

import hashlib
import io
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from rongxin.catalog.schemas import FieldType, Item
from rongxin.synth.context import Columns


class FileFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.integer: pa.int64(),
    FieldType.decimal: pa.float64(),
    FieldType.boolean: pa.bool_(),
    FieldType.date: pa.date32(),
}


def arrow_type(ft: FieldType) -> pa.DataType:
    return ARROW_TYPES.get(ft, pa.string())


def to_table(item: Item, cols: Columns, uscc: np.ndarray) -> pa.Table:
    """Columns in catalog order and types; absent optional fields are null; '' means null."""
    owner = cols["_owner"]
    n = len(owner)
    arrays: list[pa.Array] = []
    for f in item.fields:
        typ = arrow_type(f.type)
        if f.name == "uscc":
            values: Any = uscc[owner]
        elif f.name in cols:
            values = cols[f.name]
        else:
            arrays.append(pa.nulls(n, typ))
            continue
        if isinstance(values, np.ndarray) and values.dtype.kind == "M":
            values = values.astype("datetime64[D]")
        arr = pa.array(values, from_pandas=True)
        if arr.type != typ:
            arr = arr.cast(typ)
        if typ == pa.string() and not f.required:
            arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=[f.name for f in item.fields])


def dedupe(table: pa.Table, key: list[str]) -> pa.Table:
    """Drop rows repeating a natural key (keep the first): a provider sends each record once."""
    if table.num_rows == 0:
        return table
    df = pl.DataFrame(pl.from_arrow(table))
    return df.unique(subset=key, keep="first", maintain_order=True).to_arrow().cast(table.schema)


class DeliveryWriter:
    """One output file for one item, appended to chunk by chunk."""

    def __init__(self, path: Path, fmt: FileFormat, schema: pa.Schema, encoding: str) -> None:
        self.path = path
        self.fmt = fmt
        self.encoding = encoding
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._parquet: pq.ParquetWriter | None = None
        self._fh: io.BufferedWriter | None = None
        if fmt is FileFormat.parquet:
            self._parquet = pq.ParquetWriter(path, schema, compression="zstd")
        else:
            self._fh = path.open("wb")
            if fmt is FileFormat.csv:
                self._write_csv(schema.empty_table(), header=True)

    def _write_csv(self, table: pa.Table, *, header: bool) -> None:
        buf = io.BytesIO()
        opts = pacsv.WriteOptions(include_header=header, quoting_style="needed")
        pacsv.write_csv(table, buf, opts)
        data = buf.getvalue()
        if self.encoding != "utf-8":
            data = data.decode("utf-8").encode(self.encoding)
        self._handle().write(data)

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.rows += table.num_rows
        if self._parquet is not None:
            self._parquet.write_table(table)
        elif self.fmt is FileFormat.csv:
            self._write_csv(table, header=False)
        else:
            buf = io.BytesIO()
            pl.DataFrame(pl.from_arrow(table)).write_ndjson(buf)
            self._handle().write(buf.getvalue())

    def _handle(self) -> io.BufferedWriter:
        if self._fh is None:
            raise RuntimeError(f"{self.path}: writer is closed or not a text format")
        return self._fh

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._fh is not None:
            self._fh.close()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
