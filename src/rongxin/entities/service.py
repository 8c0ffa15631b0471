"""Market-entity use cases: look up, search, check codes, import the registry.

Services take the session first and keyword-only domain arguments; they flush, never commit
(the edge owns the transaction).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Select, Table, bindparam, delete, exists, func, insert, select, text, update
from sqlalchemy.orm import Session, aliased

from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog
from rongxin.db.base import utcnow
from rongxin.entities import importing, reference
from rongxin.entities import uscc as uscc_rules
from rongxin.entities.errors import EntityNotFound, InvalidUscc
from rongxin.entities.models import EntityNameGram, MarketEntity
from rongxin.entities.schemas import (
    EntityPage,
    EntityRead,
    EntitySummary,
    ImportSummary,
    UsccCheckResult,
)
from rongxin.errors import InvalidInput

REGISTRATION_ITEM = "registration"
ANNUAL_REPORT_ITEM = "annual_report"
BATCH_SIZE = 10_000
IN_CHUNK = 5_000  # keys per IN (…) list: below SQLite's and PostgreSQL's parameter limits
RARE_GRAM_CAP = 5_000  # a bigram in more names than this is "common": not worth intersecting
ANALYZE_AFTER = 10_000  # PostgreSQL: refresh planner statistics after a bulk load this big
MAX_INTERSECT = 4  # intersect at most this many of the rarest bigrams; LIKE confirms the rest

Progress = Callable[[str, int, int], None]  # (stage, done, total)

_USCC_SHAPE = re.compile(r"^[0-9A-Z]{18}$")
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


# ---- codes, sizes, names -----------------------------------------------------------------------


def load_allow_list(path: Path | None = None) -> frozenset[str]:
    """The operator's allow-list of legacy codes (the shipped one when ``path`` is None)."""
    try:
        return reference.load_allow_list(path)
    except OSError as exc:
        raise InvalidInput(
            f"{path}: cannot read the USCC allow-list: {exc.strerror}. Check the path."
        ) from exc


def check_uscc(code: str, *, allow_list: Iterable[str] = ()) -> UsccCheckResult:
    """Validate one code and say what kind of entity and region it names."""
    result = uscc_rules.validate(code, allow_list=allow_list)
    out = UsccCheckResult(
        code=result.code,
        valid=result.valid,
        reason=result.reason,
        check=result.check.value if result.check else None,
        notes=list(result.notes),
    )
    if result.valid:
        kind = reference.entity_type_of(result.code)
        region = reference.region(result.code[2:8])
        out.entity_type, out.entity_type_name = kind.code, kind.name
        out.region_full_name = region.full_name if region else None
    return out


def check_usccs(codes: Sequence[str], *, allow_list: Iterable[str] = ()) -> list[UsccCheckResult]:
    allowed = frozenset(allow_list)
    return [check_uscc(c, allow_list=allowed) for c in codes]


def size_class_for(
    *,
    industry_code: str,
    employees: float | None,
    revenue: float | None,
    total_assets: float | None,
    as_of: date,
) -> tuple[reference.SizeClass | None, str | None]:
    """Size class and rule-set id; (None, None) when no indicator is known."""
    if employees is None and revenue is None and total_assets is None:
        return None, None
    return reference.classify_size(
        industry_code=industry_code,
        employees=employees,
        revenue=revenue,
        assets=total_assets,
        as_of=as_of,
    )


def _search_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def name_grams(text: str) -> list[str]:
    """The distinct character bigrams the name index holds for ``text``, in order."""
    t = _search_text(text)
    return list(dict.fromkeys(t[i : i + 2] for i in range(len(t) - 1)))


def gram_frame(names: pl.DataFrame) -> pl.DataFrame:
    """Index rows (gram, uscc) for a frame with columns uscc and name; same as name_grams."""
    chars = names.select(
        "uscc",
        pl.col("name").str.normalize("NFKC").str.to_lowercase().str.split("").alias("c"),
    ).explode("c")
    return (
        chars.with_columns(
            (pl.col("c") + pl.col("c").shift(-1)).alias("gram"),
            (pl.col("uscc") == pl.col("uscc").shift(-1)).alias("same"),
        )
        .filter(pl.col("same") & pl.col("gram").is_not_null())
        .select("gram", "uscc")
        .unique()
    )


# ---- reading -----------------------------------------------------------------------------------


def _to_read(entity: MarketEntity) -> EntityRead:
    values = {c.key: getattr(entity, c.key) for c in _ENTITY_TABLE.columns}
    region = reference.region(entity.region_code)
    industry = reference.industries().get(entity.industry_code[:2])
    kind = reference.entity_types().get(entity.entity_type) or reference.entity_types()["other"]
    return EntityRead(
        **values,
        entity_type_name=kind.name,
        region_name=region.name if region else None,
        region_full_name=region.full_name if region else None,
        industry_name=industry.name if industry else None,
        industry_section_name=reference.industry_sections().get(entity.industry_section),
        size_class_name=reference.SIZE_CLASS_NAMES.get(entity.size_class or ""),
    )


def _to_summary(entity: MarketEntity) -> EntitySummary:
    return EntitySummary.model_validate(_to_read(entity).model_dump())


def get_entity(session: Session, *, uscc: str) -> EntityRead:
    """One entity by its USCC (full-width or lower-case input is normalized)."""
    code = uscc_rules.normalize(uscc)
    entity = session.get(MarketEntity, code)
    if entity is not None:
        return _to_read(entity)
    result = uscc_rules.validate(code)
    if not result.valid:
        raise InvalidUscc(
            f"{code} is not a valid USCC: {result.reason}. Check the code and try again.",
            check=result.check.value if result.check else None,
            code=code,
        )
    raise EntityNotFound(
        f"no market entity with USCC {code} is registered on this node. Check the code, or "
        "import the registration data (`rongxin entities import --registration FILE`).",
        uscc=code,
    )


def _region_prefix(region: str) -> str:
    if not re.fullmatch(r"\d{2,6}", region):
        raise InvalidInput(
            f"region {region!r} is not a GB/T 2260 code or prefix (2–6 digits, e.g. 35 or 350102)",
            field="region",
        )
    prefix = region
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def _gram_candidates(session: Session, text: str) -> tuple[bool, Select[str] | None]:
    """(any possible match, a uscc subquery narrowing the candidates or None to scan)."""
    grams = name_grams(text)
    counts: dict[str, int] = {}
    for gram in grams:
        capped = (
            select(EntityNameGram.uscc)
            .where(EntityNameGram.gram == gram)
            .limit(RARE_GRAM_CAP)
            .subquery()
        )
        counts[gram] = session.scalar(select(func.count()).select_from(capped)) or 0
        if counts[gram] == 0:
            return False, None
    rarest = sorted(grams, key=lambda g: counts[g])[:MAX_INTERSECT]
    if counts[rarest[0]] >= RARE_GRAM_CAP:
        return True, None
    first = aliased(EntityNameGram)
    candidates = select(first.uscc).where(first.gram == rarest[0])
    for gram in rarest[1:]:
        other = aliased(EntityNameGram)
        candidates = candidates.where(exists().where(other.gram == gram, other.uscc == first.uscc))
    return True, candidates


def search_entities(
    session: Session,
    *,
    q: str | None = None,
    limit: int = 20,
    offset: int = 0,
    region_prefix: str | None = None,
) -> EntityPage:
    """Entities whose name contains ``q`` (or whose USCC is ``q``), ordered by name."""
    stmt = select(MarketEntity)
    if region_prefix:
        stmt = stmt.where(
            MarketEntity.region_code.startswith(_region_prefix(region_prefix), autoescape=True)
        )
    text = unicodedata.normalize("NFKC", q or "").strip()
    empty = EntityPage(items=[], total=0, limit=limit, offset=offset)
    if text:
        code = uscc_rules.normalize(text)
        if _USCC_SHAPE.match(code):
            stmt = stmt.where(MarketEntity.uscc == code)
        elif len(text) == 1:
            stmt = stmt.where(MarketEntity.name.startswith(text, autoescape=True))
        else:
            possible, candidates = _gram_candidates(session, text)
            if not possible:
                return empty
            if candidates is not None:
                stmt = stmt.where(MarketEntity.uscc.in_(candidates))
            stmt = stmt.where(MarketEntity.name.icontains(text, autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if total == 0:
        return empty
    page = session.scalars(
        stmt.order_by(MarketEntity.name, MarketEntity.uscc).limit(limit).offset(offset)
    ).all()
    return EntityPage(items=[_to_summary(e) for e in page], total=total, limit=limit, offset=offset)


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


def _bulk_insert(
    session: Session, table: Table, frame: pl.DataFrame, progress: Progress, stage: str
) -> None:
    """Insert every row of ``frame``: COPY on PostgreSQL, executemany batches elsewhere."""
    total = frame.height
    if session.get_bind().dialect.name == "postgresql":
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, frame.columns))
        )
        driver = session.connection().connection.driver_connection
        assert driver is not None  # noqa: S101 - a live connection always has one
        done = 0
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for batch in frame.iter_slices(BATCH_SIZE * 10):
                copy.write(
                    batch.write_csv(include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.f%:z")
                )
                done += batch.height
                progress(stage, done, total)
        return
    done = 0
    for batch in frame.iter_slices(BATCH_SIZE):
        session.execute(insert(table), batch.to_dicts())
        done += batch.height
        progress(stage, done, total)


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

    All or nothing: any invalid row raises ``ImportFileError`` naming file, line, field and
    reason (details list up to 20 problems) and nothing is written.
    """
    say: Progress = progress or (lambda _stage, _done, _total: None)
    catalog = catalog or catalog_service.load_catalog()
    reg_item = catalog_service.get_item(catalog, REGISTRATION_ITEM)
    reg_table = importing.read_table(registration)
    say("read registration", reg_table.frame.height, reg_table.frame.height)
    reg_typed, problems = importing.validate_table(reg_table, reg_item, allow_list=allow_list)
    ann_table: importing.Table | None = None
    ann_typed: pl.DataFrame | None = None
    if annual_report is not None:
        ann_table = importing.read_table(annual_report)
        say("read annual reports", ann_table.frame.height, ann_table.frame.height)
        ann_typed, ann_problems = importing.validate_table(
            ann_table,
            catalog_service.get_item(catalog, ANNUAL_REPORT_ITEM),
            allow_list=allow_list,
        )
        problems.extend(ann_problems)
    problems.raise_if_any()
    say("validated", 1, 1)

    reg = _registration_frame(reg_typed)
    codes = reg["uscc"].to_list()
    latest = None
    if ann_typed is not None and ann_table is not None:
        latest = _latest_reports(ann_typed)
        codes = list(dict.fromkeys([*codes, *latest["uscc"].to_list()]))
    existing = _existing(session, codes)
    if ann_typed is not None and ann_table is not None:
        registered = pl.concat([reg["uscc"], existing["uscc"]]).implode()
        orphan = ~ann_typed["uscc"].is_in(registered)
        found = ann_table.problems(
            "uscc",
            orphan,
            "no registration for this USCC: include it in the registration file "
            "or import its registration first",
        )
        found.raise_if_any()

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

    _bulk_insert(session, _ENTITY_TABLE, inserts.sort("uscc"), say, "insert entities")
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
    _bulk_insert(session, _GRAM_TABLE, grams, say, "index names")
    if session.get_bind().dialect.name == "postgresql" and inserts.height >= ANALYZE_AFTER:
        # Fresh statistics, or the planner scans the gram table instead of using its key.
        session.execute(text("ANALYZE market_entity"))
        session.execute(text("ANALYZE entity_name_gram"))
    session.flush()
    return ImportSummary(
        registration_file=str(registration),
        annual_report_file=str(annual_report) if annual_report else None,
        registration_rows=reg_table.frame.height,
        annual_report_rows=ann_table.frame.height if ann_table is not None else 0,
        inserted=inserts.height,
        updated=updates.height,
        unchanged=target.height - inserts.height - updates.height,
        sized=int(target["size_class"].is_not_null().sum()),
        name_grams_written=grams.height,
        origin_node=origin_node,
        as_of=as_of,
        size_rule=rule_id,
    )
