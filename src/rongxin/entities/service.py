"""Market-entity use cases: look up one entity, check codes, size classes.

Services take the session first and keyword-only domain arguments; they flush, never commit
(the edge owns the transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Float, Integer, String, bindparam, cast, select
from sqlalchemy.orm import Session

from rongxin.db.bulk import fetch_tuples
from rongxin.entities import reference
from rongxin.entities import uscc as uscc_rules
from rongxin.entities.errors import EntityNotFound, InvalidUscc
from rongxin.entities.models import MarketEntity
from rongxin.entities.schemas import (
    EntityRead,
    EntitySummary,
    UsccCheckResult,
)
from rongxin.errors import InvalidInput

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


# ---- reading -----------------------------------------------------------------------------------


def _to_read(entity: MarketEntity) -> EntityRead:
    return _read_from({c.key: getattr(entity, c.key) for c in MarketEntity.__table__.columns})


def _read_from(values: dict[str, Any]) -> EntityRead:
    region = reference.region(values["region_code"])
    industry = reference.industries().get(values["industry_code"][:2])
    types = reference.entity_types()
    kind = types.get(values["entity_type"]) or types["other"]
    return EntityRead(
        **values,
        entity_type_name=kind.name,
        region_name=region.name if region else None,
        region_full_name=region.full_name if region else None,
        industry_name=industry.name if industry else None,
        industry_section_name=reference.industry_sections().get(values["industry_section"]),
        size_class_name=reference.SIZE_CLASS_NAMES.get(values["size_class"] or ""),
    )


# one entity by primary key, as plain columns: the first query of every report
_BY_USCC = select(*MarketEntity.__table__.columns).where(
    MarketEntity.__table__.c.uscc == bindparam("uscc")
)


def to_summary(entity: MarketEntity) -> EntitySummary:
    """The list view of one entity (search results)."""
    return EntitySummary.model_validate(_to_read(entity).model_dump())


def entity_names(session: Session, usccs: Iterable[str]) -> dict[str, str]:
    """The registered names of ``usccs`` (those on this node), in one query — for pages that
    list many entities."""
    wanted = sorted(set(usccs))
    if not wanted:
        return {}
    stmt = select(MarketEntity.uscc, MarketEntity.name).where(MarketEntity.uscc.in_(wanted))
    return {str(uscc): str(name) for uscc, name in session.execute(stmt)}


def get_entity(session: Session, *, uscc: str) -> EntityRead:
    """One entity by its USCC (full-width or lower-case input is normalized)."""
    code = uscc_rules.normalize(uscc)
    row = session.connection().execute(_BY_USCC, {"uscc": code}).first()
    if row is not None:
        return _read_from(row._asdict())
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


def registry_frame(session: Session, *, usccs: Sequence[str] | None = None) -> pl.DataFrame:
    """The public registry facts of every entity (or of ``usccs``), one row each, for
    columnar evaluation (``rongxin.rating.features.REGISTRY_COLUMNS``). Plain text and number
    columns are fetched and typed column-wise (no per-row conversion)."""
    e = MarketEntity
    stmt = select(
        e.uscc,
        cast(e.establish_date, String(10)),
        cast(e.registered_capital, Float),
        e.size_class,
        e.status,
        cast(e.annual_report_year, Integer),
        e.region_code,
        e.industry_section,
    )
    if usccs is not None:
        stmt = stmt.where(e.uscc.in_(list(usccs)))
    schema = {
        "uscc": pl.String,
        "establish_date": pl.String,
        "registered_capital": pl.Float64,
        "size_class": pl.String,
        "status": pl.String,
        "annual_report_year": pl.Int64,
        "region_code": pl.String,
        "industry_section": pl.String,
    }
    frame = pl.DataFrame(fetch_tuples(session, stmt), schema=schema, orient="row")
    return frame.with_columns(pl.col("establish_date").str.to_date("%Y-%m-%d", strict=False))
