"""The entity registry: upserting market entities from registration and annual-report data.

Services take the session first and keyword-only domain arguments; they flush, never commit
(the edge owns the transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Table, bindparam, delete, select, text, update
from sqlalchemy.orm import Session

from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog
from rongxin.db.base import utcnow
from rongxin.db.bulk import bulk_insert
from rongxin.entities import reference
from rongxin.entities.models import EntityNameGram, MarketEntity
from rongxin.entities.schemas import (
    ImportSummary,
)
from rongxin.entities.search import gram_frame
from rongxin.ingest import validation

REGISTRATION_ITEM = "registration"
ANNUAL_REPORT_ITEM = "annual_report"
BATCH_SIZE = 10_000
IN_CHUNK = 5_000  # keys per IN (…) list: below SQLite's and PostgreSQL's parameter limits
ANALYZE_AFTER = 10_000  # PostgreSQL: refresh planner statistics after a bulk load this big

Progress = Callable[[str, int, int], None]  # (stage, done, total)

_ENTITY_TABLE: Table = MarketEntity.__table__  # type: ignore[assignment]
_GRAM_TABLE: Table = EntityNameGram.__table__  # type: ignore[assignment]

ENTITY_SCHEMA: dict[str, Any] = {
    "uscc": pl.String,
    "name": pl.String,
    "entity_type": pl.String,
    "region_code": pl.String,
    "industry_code": pl.String,
    "industry_section": pl.String,
    "legal_rep_name": pl.String,
    "registered_capital": pl.Float64,
    "establish_date": pl.Date,
    "status": pl.String,
    "size_class": pl.String,
    "size_rule": pl.String,
    "annual_report_year": pl.Int64,
    "employees": pl.Int64,
    "revenue": pl.Float64,
    "total_assets": pl.Float64,
    "origin_node": pl.String,
    "updated_at": pl.Datetime("us", "UTC"),
}
REGISTRATION_COLUMNS = [
    "uscc",
    "name",
    "entity_type",
    "region_code",
    "industry_code",
    "industry_section",
    "legal_rep_name",
    "registered_capital",
    "establish_date",
    "status",
]
INDICATORS = ["annual_report_year", "employees", "revenue", "total_assets"]
COMPARED = [*REGISTRATION_COLUMNS, *INDICATORS, "size_class", "size_rule"]


def _chunks(items: Sequence[str], size: int) -> Iterable[list[str]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


# ---- importing ---------------------------------------------------------------------------------


def _existing(session: Session, codes: list[str]) -> pl.DataFrame:
    """Current rows for ``codes`` (in chunks), as a frame with ENTITY_SCHEMA."""
    rows: list[Any] = []
    if codes and session.scalar(select(MarketEntity.uscc).limit(1)) is not None:
        columns = [_ENTITY_TABLE.c[name] for name in ENTITY_SCHEMA]
        for chunk in _chunks(codes, IN_CHUNK):
            rows.extend(
                tuple(r)
                for r in session.execute(select(*columns).where(_ENTITY_TABLE.c.uscc.in_(chunk)))
            )
    return pl.DataFrame(rows, schema=ENTITY_SCHEMA, orient="row")


def _registration_frame(reg: pl.DataFrame) -> pl.DataFrame:
    sections = {code: ind.section for code, ind in reference.industries().items()}
    type_by_prefix = {p: t.code for t in reference.entity_types().values() for p in t.prefixes}
    return reg.select(
        "uscc",
        "name",
        pl.col("uscc")
        .str.slice(0, 2)
        .replace_strict(type_by_prefix, default="other", return_dtype=pl.String)
        .alias("entity_type"),
        "region_code",
        "industry_code",
        pl.col("industry_code")
        .str.slice(0, 2)
        .replace_strict(sections, default=None, return_dtype=pl.String)
        .alias("industry_section"),
        "legal_rep_name",
        pl.col("registered_capital").cast(pl.Float64),
        "establish_date",
        "status",
    )


def _latest_reports(ann: pl.DataFrame) -> pl.DataFrame:
    """The latest annual report per entity (by year, then submission date)."""
    return (
        ann.sort(["uscc", "report_year", "submitted_date"], nulls_last=False)
        .unique(subset="uscc", keep="last", maintain_order=True)
        .select(
            "uscc",
            pl.col("report_year").alias("new_annual_report_year"),
            pl.col("employees").cast(pl.Int64).alias("new_employees"),
            pl.col("revenue").cast(pl.Float64).alias("new_revenue"),
            pl.col("total_assets").cast(pl.Float64).alias("new_total_assets"),
        )
    )


def _merge(
    reg: pl.DataFrame, latest: pl.DataFrame | None, existing: pl.DataFrame, *, as_of: date
) -> tuple[pl.DataFrame, str]:
    """The target rows: registration from the file, indicators from the newest report known."""
    target = reg.join(existing.select("uscc", *INDICATORS), on="uscc", how="left")
    if latest is not None:
        annual_only = existing.filter(
            pl.col("uscc").is_in(latest["uscc"].implode())
            & ~pl.col("uscc").is_in(reg["uscc"].implode())
        ).select(target.columns)
        take = pl.col("new_annual_report_year").is_not_null() & (
            pl.col("annual_report_year").is_null()
            | (pl.col("new_annual_report_year") >= pl.col("annual_report_year"))
        )
        target = (
            pl.concat([target, annual_only])
            .join(latest, on="uscc", how="left")
            .with_columns(
                pl.when(take).then(pl.col(f"new_{c}")).otherwise(pl.col(c)).alias(c)
                for c in INDICATORS
            )
            .select(target.columns)
        )
    size, rule_id = reference.size_class_expr(as_of=as_of)
    known = pl.col("annual_report_year").is_not_null() & pl.any_horizontal(
        pl.col(c).is_not_null() for c in ("employees", "revenue", "total_assets")
    )
    target = target.with_columns(
        pl.when(known).then(size).otherwise(None).alias("size_class"),
        pl.when(known).then(pl.lit(rule_id)).otherwise(None).alias("size_rule"),
    )
    return target, rule_id


def import_entities(
    session: Session,
    *,
    registration: Path,
    annual_report: Path | None = None,
    origin_node: str,
    as_of: date,
    catalog: Catalog | None = None,
    allow_list: frozenset[str] = frozenset(),
    progress: Progress | None = None,
) -> ImportSummary:
    """Upsert entities from a registration file (and their size from an annual-report file).

    All or nothing: any invalid row raises ``FileRejected`` naming file, line, field and
    reason (details list up to 20 problems) and nothing is written.
    """
    say: Progress = progress or (lambda _stage, _done, _total: None)
    catalog = catalog or catalog_service.load_catalog()
    reg_item = catalog_service.get_item(catalog, REGISTRATION_ITEM)
    reg_table = validation.read_table(registration)
    say("read registration", reg_table.frame.height, reg_table.frame.height)
    reg_typed, problems = validation.validate_table(reg_table, reg_item, allow_list=allow_list)
    ann_table: validation.Table | None = None
    ann_typed: pl.DataFrame | None = None
    if annual_report is not None:
        ann_table = validation.read_table(annual_report)
        say("read annual reports", ann_table.frame.height, ann_table.frame.height)
        ann_typed, ann_problems = validation.validate_table(
            ann_table,
            catalog_service.get_item(catalog, ANNUAL_REPORT_ITEM),
            allow_list=allow_list,
        )
        problems.extend(ann_problems)
    problems.raise_if_any()
    say("validated", 1, 1)

    if ann_typed is not None and ann_table is not None:
        codes = reg_typed["uscc"].to_list()
        existing = _existing(session, list(dict.fromkeys([*codes, *ann_typed["uscc"].to_list()])))
        registered = pl.concat([reg_typed["uscc"], existing["uscc"]]).implode()
        orphan = ~ann_typed["uscc"].is_in(registered)
        found = ann_table.problems(
            "uscc",
            orphan,
            "no registration for this USCC: include it in the registration file "
            "or import its registration first",
        )
        found.raise_if_any()
    counts = upsert_entities(
        session,
        registration=reg_typed,
        annual_report=ann_typed,
        origin_node=origin_node,
        as_of=as_of,
        progress=say,
    )
    return ImportSummary(
        registration_file=str(registration),
        annual_report_file=str(annual_report) if annual_report else None,
        registration_rows=reg_table.frame.height,
        annual_report_rows=ann_table.frame.height if ann_table is not None else 0,
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=counts.unchanged,
        sized=counts.sized,
        name_grams_written=counts.name_grams_written,
        origin_node=origin_node,
        as_of=as_of,
        size_rule=counts.size_rule,
    )


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    inserted: int
    updated: int
    unchanged: int
    sized: int
    name_grams_written: int
    size_rule: str


def _empty_registration() -> pl.DataFrame:
    schema = {c: ENTITY_SCHEMA[c] for c in REGISTRATION_COLUMNS if c not in _DERIVED}
    return pl.DataFrame(schema=schema)


_DERIVED = ("entity_type", "industry_section")


def upsert_entities(
    session: Session,
    *,
    registration: pl.DataFrame | None,
    annual_report: pl.DataFrame | None,
    origin_node: str,
    as_of: date,
    progress: Progress | None = None,
) -> UpsertCounts:
    """Upsert the registry from validated registration and/or annual-report frames (typed as
    ``ingest.validation.validate_table`` returns them). Annual reports of entities that are not
    registered on this node are skipped: their records are kept, the registry waits for the
    registration. Flushes; never commits."""
    say: Progress = progress or (lambda _stage, _done, _total: None)
    reg_typed = registration if registration is not None else _empty_registration()
    ann_typed = annual_report
    if ann_typed is not None:
        known = _existing(session, ann_typed["uscc"].unique().to_list())["uscc"]
        ann_typed = ann_typed.filter(
            pl.col("uscc").is_in(pl.concat([reg_typed["uscc"], known]).implode())
        )
    reg = _registration_frame(reg_typed)
    codes = reg["uscc"].to_list()
    latest = None
    if ann_typed is not None:
        latest = _latest_reports(ann_typed)
        codes = list(dict.fromkeys([*codes, *latest["uscc"].to_list()]))
    existing = _existing(session, codes)
    target, rule_id = _merge(reg, latest, existing, as_of=as_of)
    old = existing.select(
        "uscc", *[pl.col(c).alias(f"old_{c}") for c in COMPARED if c != "uscc"]
    ).with_columns(pl.lit(True).alias("old"))
    joined = target.join(old, on="uscc", how="left").with_columns(
        pl.col("old").is_null().alias("is_new"),
        pl.any_horizontal(
            pl.col(c).ne_missing(pl.col(f"old_{c}")) for c in COMPARED if c != "uscc"
        ).alias("is_changed"),
        pl.col("name").ne_missing(pl.col("old_name")).alias("name_changed"),
    )
    stamp = [pl.lit(origin_node).alias("origin_node"), pl.lit(utcnow()).alias("updated_at")]
    inserts = joined.filter("is_new").select(*target.columns, *stamp)
    updates = joined.filter(~pl.col("is_new") & pl.col("is_changed")).select(
        *target.columns, *stamp
    )
    old_names = joined.filter(~pl.col("is_new") & pl.col("name_changed")).select(
        "uscc", pl.col("old_name").alias("name")
    )

    bulk_insert(session, _ENTITY_TABLE, inserts.sort("uscc"), say, "insert entities")
    done = 0
    for batch in updates.iter_slices(BATCH_SIZE):
        session.execute(update(MarketEntity), batch.to_dicts())
        done += batch.height
        say("update entities", done, updates.height)
    stale = gram_frame(old_names).sort("gram", "uscc")
    by_key = delete(_GRAM_TABLE).where(
        _GRAM_TABLE.c.gram == bindparam("old_gram"), _GRAM_TABLE.c.uscc == bindparam("old_uscc")
    )
    for batch in stale.iter_slices(BATCH_SIZE):
        session.execute(by_key, batch.select(old_gram="gram", old_uscc="uscc").to_dicts())
    renamed_codes = old_names["uscc"].implode()
    grams = gram_frame(
        pl.concat(
            [
                inserts.select("uscc", "name"),
                updates.filter(pl.col("uscc").is_in(renamed_codes)).select("uscc", "name"),
            ]
        )
    ).sort("gram", "uscc")
    bulk_insert(session, _GRAM_TABLE, grams, say, "index names")
    if session.get_bind().dialect.name == "postgresql" and inserts.height >= ANALYZE_AFTER:
        # Fresh statistics, or the planner scans the gram table instead of using its key.
        session.execute(text("ANALYZE market_entity"))
        session.execute(text("ANALYZE entity_name_gram"))
    session.flush()
    return UpsertCounts(
        inserted=inserts.height,
        updated=updates.height,
        unchanged=target.height - inserts.height - updates.height,
        sized=int(target["size_class"].is_not_null().sum()),
        name_grams_written=grams.height,
        size_rule=rule_id,
    )
