"""Finding market entities: by USCC, by partial Chinese name through a portable bigram index.

Services take the session first and keyword-only domain arguments; they flush, never commit
(the edge owns the transaction).
"""

from __future__ import annotations

import re
import unicodedata

import polars as pl
from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from rongxin.entities import uscc as uscc_rules
from rongxin.entities.models import EntityNameGram, MarketEntity
from rongxin.entities.schemas import (
    EntityPage,
)
from rongxin.entities.service import to_summary
from rongxin.errors import InvalidInput

RARE_GRAM_CAP = 5_000  # a bigram in more names than this is "common": not worth intersecting
MAX_INTERSECT = 4  # intersect at most this many of the rarest bigrams; LIKE confirms the rest


_USCC_SHAPE = re.compile(r"^[0-9A-Z]{18}$")


# ---- the name index ---------------------------------------------------------------------------


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


# ---- search ------------------------------------------------------------------------------------


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
    return EntityPage(items=[to_summary(e) for e in page], total=total, limit=limit, offset=offset)
