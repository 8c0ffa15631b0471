"""``rongxin synth``: a realistic delivery package, streamed chunk by chunk.

Output: ``OUT/<provider>/<item>.<ext>`` for every catalog item, ``OUT/loan_outcomes.<ext>``
(a sample of firms' 12-month default outcomes, as institutions would share back, E3) and
``OUT/manifest.json``. Memory is bounded by the chunk size; the same seed gives byte-identical
files because each chunk's random streams depend only on (seed, chunk, item).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from rongxin import __version__
from rongxin.catalog.schemas import Catalog
from rongxin.errors import InvalidInput
from rongxin.synth.context import ChunkContext, month_list
from rongxin.synth.items import generator_for
from rongxin.synth.population import Population, make_population
from rongxin.synth.writer import (
    DeliveryWriter,
    FileFormat,
    arrow_type,
    dedupe,
    sha256_file,
    to_table,
)

CHUNK_SIZE = 50_000  # part of the output's identity: changing it changes the files
DEFAULT_AS_OF = date(2026, 9, 30)
LOAN_SAMPLE_RATE = 0.2

LOAN_SCHEMA = pa.schema(
    [
        ("uscc", pa.string()),
        ("loan_id", pa.string()),
        ("loan_date", pa.date32()),
        ("product", pa.string()),
        ("amount", pa.float64()),
        ("term_months", pa.int64()),
        ("defaulted_12m", pa.int64()),
    ]
)


@dataclass
class FileEntry:
    path: str
    provider: str
    item: str
    format: str
    encoding: str | None
    rows: int
    sha256: str = ""


@dataclass
class SynthSummary:
    out: str
    enterprises: int
    seed: int
    as_of: str
    files: list[FileEntry] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(f.rows for f in self.files)


def _item_stream(seed: int, chunk: int, code: str) -> np.random.Generator:
    return np.random.default_rng([seed, chunk, zlib.crc32(code.encode())])


def _loan_outcomes(pop: Population, rng: np.random.Generator, chunk: int) -> pa.Table:
    """A sample of firms with a loan 12–24 months ago and whether it defaulted within 12 months."""
    owners = np.flatnonzero(rng.random(pop.n) < LOAN_SAMPLE_RATE)
    n = len(owners)
    as_of = np.datetime64(pop.as_of, "D")
    loan_date = as_of - rng.integers(366, 730, n).astype("timedelta64[D]")
    defaulted = (rng.random(n) < pop.pd[owners]).astype(np.int64)
    product = rng.choice(np.array(["信用贷款", "抵押贷款", "保证贷款"]), n, p=[0.35, 0.4, 0.25])
    amount = np.round(np.maximum(5, pop.revenue[owners] * rng.uniform(0.05, 0.3, n)), 2)
    ids = np.char.add(f"LN{chunk:04d}", np.char.mod("%07d", np.arange(n)))
    return pa.Table.from_arrays(
        [
            pa.array(pop.uscc[owners]),
            pa.array(ids),
            pa.array(loan_date).cast(pa.date32()),
            pa.array(product),
            pa.array(amount),
            pa.array(rng.choice(np.array([6, 12, 24, 36]), n)),
            pa.array(defaulted),
        ],
        schema=LOAN_SCHEMA,
    )


def generate(
    catalog: Catalog,
    *,
    enterprises: int,
    seed: int,
    out: Path,
    fmt: FileFormat = FileFormat.csv,
    encoding: str = "utf-8",
    as_of: date = DEFAULT_AS_OF,
    months: int = 12,
    progress: Callable[[int], None] | None = None,
) -> SynthSummary:
    """Write the package; ``progress`` is called with the number of entities done per chunk."""
    if enterprises < 1:
        raise InvalidInput("--enterprises must be at least 1")
    if not 1 <= months <= 60:
        raise InvalidInput("--months must be between 1 and 60")
    if encoding not in ("utf-8", "gb18030"):
        raise InvalidInput("--encoding must be utf-8 or gb18030")
    if encoding != "utf-8" and fmt is not FileFormat.csv:
        raise InvalidInput("--encoding gb18030 applies to CSV only")
    out.mkdir(parents=True, exist_ok=True)
    ext = fmt.value
    enc = encoding if fmt is FileFormat.csv else None
    writers: dict[str, DeliveryWriter] = {}
    for item in catalog.items:
        schema = pa.schema([(f.name, arrow_type(f.type)) for f in item.fields])
        path = out / item.provider / f"{item.code}.{ext}"
        writers[item.code] = DeliveryWriter(path, fmt, schema, encoding)
    loans = DeliveryWriter(out / f"loan_outcomes.{ext}", fmt, LOAN_SCHEMA, encoding)
    window = month_list(as_of, months)
    try:
        for chunk, offset in enumerate(range(0, enterprises, CHUNK_SIZE)):
            n = min(CHUNK_SIZE, enterprises - offset)
            pop = make_population(seed, chunk, offset, n, as_of)
            for item in catalog.items:
                ctx = ChunkContext(pop, _item_stream(seed, chunk, item.code), chunk, window)
                table = to_table(item, generator_for(item)(ctx), pop.uscc)
                writers[item.code].write(dedupe(table, item.natural_key))
            loans.write(_loan_outcomes(pop, _item_stream(seed, chunk, "loan_outcomes"), chunk))
            if progress is not None:
                progress(n)
    finally:
        for w in [*writers.values(), loans]:
            w.close()

    summary = SynthSummary(str(out), enterprises, seed, as_of.isoformat())
    for item in catalog.items:
        w = writers[item.code]
        summary.files.append(
            FileEntry(str(w.path.relative_to(out)), item.provider, item.code, ext, enc, w.rows)
        )
    summary.files.append(
        FileEntry(loans.path.name, "institution_feedback", "loan_outcomes", ext, enc, loans.rows)
    )
    for entry in summary.files:
        entry.sha256 = sha256_file(out / entry.path)
    manifest = {
        "generator": f"rongxin synth {__version__}",
        "catalog_version": catalog.version,
        "seed": seed,
        "enterprises": enterprises,
        "as_of": as_of.isoformat(),
        "months": months,
        "format": ext,
        "encoding": enc,
        "note": "Synthetic data: fictitious entities and people, for testing and demonstration.",
        "files": [vars(f) for f in summary.files],
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return summary
