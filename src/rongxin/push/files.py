"""Delivery files (CSV, JSONL, XLSX), written atomically: a temp file, then ``os.replace``.

Every format has the same rows and columns; ``payload`` is the record's pushable fields as a JSON
object (JSONL) or JSON text (CSV, XLSX). CSV is UTF-8 without a BOM (for machines); use XLSX
for spreadsheets. XLSX cannot hold control characters (``record_key`` joins the natural-key
values with U+001F): they are written with the OOXML escape ``_xHHHH_``, which Excel decodes;
text that starts with ``=`` stays text, never a formula.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from rongxin.push.schemas import FileFormat

COLUMNS = (
    "change_seq",
    "item_code",
    "category",
    "uscc",
    "record_key",
    "version",
    "status",
    "event_date",
    "provider_code",
    "origin_node",
    "region_code",
    "industry_section",
    "received_at",
    "payload",
)

MEDIA_TYPES = {
    FileFormat.csv: "text/csv; charset=utf-8",
    FileFormat.jsonl: "application/x-ndjson",
    FileFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


XLSX_CELL_LIMIT = 32_767
_OOXML_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b\x0c\x0e-\x1f]")


def ooxml_text(value: str) -> str:
    """``value`` with the characters a worksheet cannot hold escaped as ``_xHHHH_``."""
    return _OOXML_ESCAPE.sub(lambda m: f"_x{ord(m.group()):04X}_", value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _cells(record: dict[str, Any]) -> list[Any]:
    return [_json(record[c]) if c == "payload" else record[c] for c in COLUMNS]


def _write_csv(fh: Any, records: Sequence[dict[str, Any]]) -> None:
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow(["" if v is None else v for v in _cells(record)])


def _write_jsonl(fh: Any, records: Sequence[dict[str, Any]]) -> None:
    for record in records:
        fh.write(_json({c: record[c] for c in COLUMNS}) + "\n")


def _xlsx_rows(records: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """Every row checked before the workbook is opened (a half-written workbook leaks)."""
    rows = []
    for record in records:
        row: list[Any] = []
        for column, value in zip(COLUMNS, _cells(record), strict=True):
            if isinstance(value, str):
                value = ooxml_text(value)
                if len(value) > XLSX_CELL_LIMIT:
                    raise ValueError(
                        f"record {record['change_seq']}: {column} is longer than an XLSX cell "
                        f"holds ({XLSX_CELL_LIMIT:,} characters); use csv or jsonl"
                    )
            row.append(value)
        rows.append(row)
    return rows


def _write_xlsx(path: Path, records: Sequence[dict[str, Any]]) -> None:
    rows = _xlsx_rows(records)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("records")
    sheet.append(list(COLUMNS))
    for values in rows:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # data, never a formula
            cells.append(cell)
        sheet.append(cells)
    book.save(path)


def write_delivery_file(path: Path, records: Sequence[dict[str, Any]], fmt: FileFormat) -> None:
    """Write ``records`` to ``path`` so that readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        if fmt is FileFormat.xlsx:
            os.close(fd)
            _write_xlsx(tmp, records)
        else:
            with open(fd, "w", encoding="utf-8", newline="") as fh:
                (_write_csv if fmt is FileFormat.csv else _write_jsonl)(fh, records)
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
