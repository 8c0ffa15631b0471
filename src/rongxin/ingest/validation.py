"""Reading and validating delivered files: pure columnar transforms.

Files are what providers deliver (and ``rongxin synth`` writes): CSV (UTF-8 or GB18030, with a
header), JSON Lines or Parquet, chosen by suffix. Validation is driven by the catalog item's
field definitions (the catalog is data) and runs column by column; only the few failing rows
are explained one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from rongxin.catalog.schemas import FieldDef, FieldType, Item
from rongxin.entities import reference, uscc
from rongxin.ingest.errors import FileRejected

MAX_PROBLEMS = 20
ROW = "_row"  # 0-based data row index added to every frame read


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    where: str  # "line 3" (CSV/JSONL) or "row 3" (Parquet)
    field: str
    reason: str
    value: str | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "reason": self.reason,
        }
        if self.value is not None:
            out["value"] = self.value
        return out

    def describe(self) -> str:
        return f"{self.file}, {self.where}, field {self.field}: {self.reason}"


@dataclass(slots=True)
class Problems:
    """Problems found so far: the first ``MAX_PROBLEMS`` by position, and how many in all."""

    items: list[Problem] = field(default_factory=list)
    count: int = 0
    rows: pl.Series | None = None  # True for every data row with at least one problem
    duplicate_rows: int = 0  # rows repeating an earlier row's natural key (quality, S4)

    @classmethod
    def of(cls, problem: Problem) -> Problems:
        """One problem that concerns the whole file (unreadable, wrong checksum …)."""
        return cls([problem], 1)

    def extend(self, other: Problems) -> None:
        self.items.extend(other.items)
        self.count += other.count
        self.duplicate_rows += other.duplicate_rows
        if other.rows is not None:
            self.rows = other.rows if self.rows is None else (self.rows | other.rows)

    @property
    def bad_rows(self) -> int:
        """How many distinct data rows have a problem."""
        return int(self.rows.sum()) if self.rows is not None else 0

    def first(self) -> list[Problem]:
        return sorted(self.items, key=lambda p: (p.file, p.line))[:MAX_PROBLEMS]

    def raise_if_any(self) -> None:
        if not self.count:
            return
        shown = self.first()
        head = shown[0]
        more = f" (and {self.count - 1} more)" if self.count > 1 else ""
        raise FileRejected(
            f"{head.describe()}{more}. Nothing was imported: fix the file(s) and run the "
            "import again.",
            problems=[p.to_dict() for p in shown],
            problem_count=self.count,
        )


@dataclass(frozen=True, slots=True)
class Table:
    """One file read into a frame of strings (blank → null), with a row index column."""

    path: Path
    format: str  # csv | jsonl | parquet
    frame: pl.DataFrame
    encoding: str | None = None  # CSV only: the encoding the file was in

    def line(self, row: int) -> int:
        """1-based line number of data row ``row`` (the CSV header is line 1)."""
        return row + 2 if self.format == "csv" else row + 1

    def where(self, row: int) -> str:
        return f"{'row' if self.format == 'parquet' else 'line'} {self.line(row)}"

    def problems(
        self,
        field_name: str,
        mask: pl.Series,
        reason: str | Callable[[int, str | None], str],
        *,
        show_value: bool = True,
    ) -> Problems:
        """Problems for the rows where ``mask`` is true (nulls count as false)."""
        mask = mask.fill_null(False)
        count = int(mask.sum())
        if not count:
            return Problems()
        rows_mask = pl.Series("bad", mask, dtype=pl.Boolean)
        rows = self.frame[ROW].filter(mask).head(MAX_PROBLEMS).to_list()
        values = self.frame[field_name].filter(mask).head(MAX_PROBLEMS).to_list()
        items = [
            Problem(
                file=str(self.path),
                line=self.line(row),
                where=self.where(row),
                field=field_name,
                reason=reason(row, value) if callable(reason) else reason,
                value=None if value is None or not show_value else str(value)[:50],
            )
            for row, value in zip(rows, values, strict=True)
        ]
        return Problems(items, count, rows_mask)


BOOLEAN_TEXT = {
    "true": True, "false": False, "1": True, "0": False, "是": True, "否": False,
    "y": True, "n": False, "yes": True, "no": False,
}  # fmt: skip
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = dict(enumerate("10X98765432"))


def id_number_mask(values: pl.Series) -> pl.Series:
    """GB 11643 resident ID numbers: 17 digits, a real birth date, the right check character."""
    text = values.fill_null("").str.to_uppercase()
    shaped = text.str.contains(r"^\d{17}[\dX]$")
    safe = pl.Series(text).set(~shaped, "0" * 18)
    frame = pl.DataFrame({"v": safe})
    total = frame.select(
        pl.sum_horizontal(
            pl.col("v").str.slice(i, 1).cast(pl.Int64) * w for i, w in enumerate(_ID_WEIGHTS)
        )
    ).to_series()
    expected = (total % 11).replace_strict(_ID_CHECK, return_dtype=pl.String)
    born = safe.str.slice(6, 8).str.to_date("%Y%m%d", strict=False).is_not_null()
    return shaped & born & (expected == safe.str.slice(17, 1))


FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


ENCODINGS = ("utf-8", "gb18030")


def _csv_bytes(path: Path, encoding: str | None) -> tuple[bytes, str]:
    """The file as UTF-8 bytes, and the encoding it was in (detected when not given).

    Government exports are often GB18030; UTF-8 is tried first because valid GB18030 text is
    almost never valid UTF-8, while the reverse is common.
    """
    raw = path.read_bytes()
    candidates = (encoding,) if encoding else ENCODINGS
    for enc in candidates:
        try:
            text = raw.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        return (raw if enc == "utf-8" else text.encode("utf-8")), enc
    tried = " or ".join(candidates)
    raise FileRejected(
        f"{path}: cannot be decoded as {tried}; save it as UTF-8 or GB18030 "
        "(or name the encoding with --encoding)"
    )


def read_table(path: Path, *, encoding: str | None = None) -> Table:
    """Read a CSV (UTF-8 or GB18030), JSON Lines or Parquet file; every column becomes
    stripped text (blank → null) and a row index is added."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise FileRejected(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}; "
            "use .csv (UTF-8 or GB18030 with a header), .jsonl or .parquet"
        )
    if not path.is_file():
        raise FileRejected(f"{path}: no such file; check the path")
    used = "utf-8"
    try:
        if fmt == "csv":
            data, used = _csv_bytes(path, encoding)
            frame = pl.read_csv(data, infer_schema=False, encoding="utf8")
        elif fmt == "jsonl":
            frame = pl.read_ndjson(path, infer_schema_length=None)
        else:
            frame = pl.read_parquet(path)
        frame = frame.rename(lambda c: c.lstrip("\ufeff").strip())
        frame = frame.with_columns(pl.all().cast(pl.String).str.strip_chars())
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileRejected(
            f"{path}: cannot be read as {fmt}: {reason}. Check the file's format "
            "(CSV needs a header row)."
        ) from exc
    frame = frame.with_columns(
        pl.when(pl.col(c).str.len_chars() == 0).then(None).otherwise(pl.col(c)).alias(c)
        for c in frame.columns
    ).with_row_index(ROW)
    return Table(path=path, format=fmt, frame=frame, encoding=used if fmt == "csv" else None)


def _number_text(bound: float) -> str:
    return str(int(bound)) if bound == int(bound) else str(bound)


def _check_field(
    table: Table, f: FieldDef, *, allow_list: frozenset[str]
) -> tuple[pl.Series, Problems]:
    """Validate one column; return its typed values (null where invalid) and the problems."""
    raw = table.frame[f.name]
    present = raw.is_not_null()
    found = Problems()
    show = f.mask is None and f.level is None
    if f.required:
        found.extend(table.problems(f.name, ~present, "required value is missing"))
    if f.max_length is not None:
        found.extend(
            table.problems(
                f.name,
                raw.str.len_chars() > f.max_length,
                f"longer than {f.max_length} characters",
                show_value=show,
            )
        )
    typed: pl.Series = raw
    if f.type is FieldType.uscc:
        # Monthly series repeat each code many times: normalize and check each distinct
        # code once, then map the answers back onto the rows.
        distinct = raw.drop_nulls().unique()
        codes = distinct.str.normalize("NFKC").str.replace_all(r"\s", "").str.to_uppercase()
        lookup = pl.DataFrame(
            {
                "raw": distinct,
                "code": codes,
                "ok": uscc.valid_mask(codes.to_list(), allow_list=allow_list),
            }
        )
        mapped = raw.to_frame("raw").join(lookup, on="raw", how="left", maintain_order="left")
        typed = mapped["code"]
        ok = mapped["ok"].fill_null(False)

        def why(_row: int, value: str | None) -> str:
            result = uscc.validate(value or "", allow_list=allow_list)
            return f"invalid USCC ({result.check}): {result.reason}"

        found.extend(table.problems(f.name, present & ~ok, why))
    elif f.type in (FieldType.integer, FieldType.decimal):
        number = raw.cast(pl.Float64, strict=False)
        bad = present & (number.is_null() | ~number.is_finite())
        kind = "a number"
        if f.type is FieldType.integer:
            bad = bad | (present & number.is_finite() & (number != number.floor()))
            kind = "a whole number"
        found.extend(table.problems(f.name, bad, f"not {kind}"))
        number = pl.Series(f.name, number).set(bad.fill_null(False), None)
        if f.min is not None:
            found.extend(table.problems(f.name, number < f.min, f"less than {_number_text(f.min)}"))
        if f.max is not None:
            found.extend(
                table.problems(f.name, number > f.max, f"greater than {_number_text(f.max)}")
            )
        typed = number.cast(pl.Int64) if f.type is FieldType.integer else number
    elif f.type is FieldType.date:
        typed = raw.str.to_date("%Y-%m-%d", strict=False)
        found.extend(
            table.problems(f.name, present & typed.is_null(), "not a valid date (use YYYY-MM-DD)")
        )
    elif f.type is FieldType.enum:
        allowed = f.allowed or []
        found.extend(
            table.problems(
                f.name, present & ~raw.is_in(allowed), f"must be one of {', '.join(allowed)}"
            )
        )
    elif f.type is FieldType.region_code:
        found.extend(
            table.problems(
                f.name,
                present & ~raw.str.contains(r"^\d{6}$"),
                "not a GB/T 2260 region code (6 digits)",
            )
        )
    elif f.type is FieldType.month:
        found.extend(
            table.problems(
                f.name,
                present & ~raw.str.contains(r"^\d{4}-(0[1-9]|1[0-2])$"),
                "not a month (use YYYY-MM)",
            )
        )
    elif f.type is FieldType.boolean:
        lowered = raw.str.to_lowercase()
        typed = lowered.replace_strict(BOOLEAN_TEXT, default=None, return_dtype=pl.Boolean)
        found.extend(
            table.problems(
                f.name, present & typed.is_null(), "not a yes/no value (true/false, 1/0, 是/否)"
            )
        )
    elif f.type is FieldType.id_number:
        ok = id_number_mask(raw)
        found.extend(
            table.problems(
                f.name,
                present & ~ok,
                "not a valid resident ID number (GB 11643: 18 characters, check digit)",
                show_value=False,
            )
        )
    elif f.type is FieldType.mobile:
        found.extend(
            table.problems(
                f.name,
                present & ~raw.str.contains(r"^1[3-9]\d{9}$"),
                "not a mainland mobile number (11 digits starting 13–19)",
                show_value=False,
            )
        )
    elif f.type is FieldType.industry_code:
        # Accept "3911" or "C3911"; the stored code is the 2–4 digits.
        digits = raw.str.extract(r"^[A-T]?(\d{2,4})$", 1)
        division = digits.str.slice(0, 2)
        known = division.is_in(list(reference.industries()))
        found.extend(
            table.problems(
                f.name,
                present & (digits.is_null() | ~known),
                "not a GB/T 4754-2017 industry code (2–4 digits of a known division)",
            )
        )
        typed = digits
    return typed.alias(f.name), found


def validate_table(
    table: Table, item: Item, *, allow_list: frozenset[str] = frozenset()
) -> tuple[pl.DataFrame, Problems]:
    """Check every catalog field of ``item`` column-wise, plus natural-key uniqueness.

    Returns the typed frame (catalog fields plus the row index) and the problems found.
    """
    found = Problems()
    missing = [f.name for f in item.fields if f.name not in table.frame.columns]
    for name in missing:
        if item.field(name).required:
            found.items.append(
                Problem(
                    file=str(table.path),
                    line=1,
                    where="header" if table.format == "csv" else "columns",
                    field=name,
                    reason=f"required column {name!r} is missing",
                )
            )
            found.count += 1
    if found.count:
        return table.frame.head(0), found
    frame = table.frame.with_columns(pl.lit(None, pl.String).alias(n) for n in missing)
    table = Table(table.path, table.format, frame, table.encoding)
    columns = [table.frame[ROW]]
    for f in item.fields:
        typed, problems = _check_field(table, f, allow_list=allow_list)
        columns.append(typed)
        found.extend(problems)
    typed_frame = pl.DataFrame(columns)
    keys = item.natural_key
    first = typed_frame.select(
        pl.col(ROW).min().over(keys).alias("first"),
        pl.all_horizontal(pl.col(k).is_not_null() for k in keys).alias("complete"),
    )
    dup = (typed_frame[ROW] != first["first"]) & first["complete"]
    found.duplicate_rows = int(dup.sum())
    if found.duplicate_rows:
        first_row = dict(
            zip(
                typed_frame[ROW].filter(dup).head(MAX_PROBLEMS).to_list(),
                first["first"].filter(dup).head(MAX_PROBLEMS).to_list(),
                strict=True,
            )
        )
        label = "/".join(keys)
        found.extend(
            table.problems(
                keys[0],
                dup,
                lambda row, _v: f"duplicate {label}: same as {table.where(first_row[row])}",
            )
        )
    return typed_frame, found
