"""Rating features (评价特征) as versioned data, and their computation as one engine-portable
expression.

``data/rating_features.yaml`` names each feature and says how it is measured from an entity's
current records (count, sum, max, latest value) or its registry entry. :func:`feature_table`
turns the definitions into one ibis expression over two inputs — the long table of records
(``uscc, item_code, event_date`` and the fields the features read, as text) and the registry
table — so the same computation runs on DuckDB and on Spark (STYLE.md, "Analytics").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rongxin.catalog.schemas import Catalog, FieldType
from rongxin.kit import data_files
from rongxin.rating.errors import RatingFileError

if TYPE_CHECKING:
    import ibis.expr.types as ir

DEFAULT_FEATURES: Final = "rating_features.yaml"

#: the columns of the records input besides the fields the features read
RECORD_COLUMNS: Final = ("uscc", "item_code", "event_date")
#: the columns of the registry input
REGISTRY_COLUMNS: Final = (
    "uscc",
    "establish_date",
    "registered_capital",
    "size_class",
    "status",
    "annual_report_year",
    "region_code",
    "industry_section",
)
#: the peer group of an entity: province (GB/T 2260 first two digits), industry section, size
PEER_COLUMN: Final = "_peer"
#: how many distinct sources (registry + items) an entity has data in
SOURCES_COLUMN: Final = "_sources"


FeatureKind = Literal["count", "sum", "max", "latest", "registry"]


class RegistryField(StrEnum):
    age_years = "age_years"  # whole years from the establishment date to the as-of date
    registered_capital = "registered_capital"  # 万元
    size_class = "size_class"  # micro / small / medium / large
    status = "status"  # 存续, 在业, 吊销, 注销, 迁出
    annual_report_lag = "annual_report_lag"  # as-of year − the last annual report's year


NUMERIC_REGISTRY: Final = frozenset(
    {RegistryField.age_years, RegistryField.registered_capital, RegistryField.annual_report_lag}
)


class Feature(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    kind: FeatureKind
    item: str | None = None
    field: str | None = None
    within_years: int | None = Field(None, ge=1, le=50)
    where: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    open_field: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if self.kind == "registry":
            if self.item is not None or self.field not in set(RegistryField):
                names = ", ".join(f.value for f in RegistryField)
                raise ValueError(f"a registry feature names no item and a field among: {names}")
            if self.where or self.open_field or self.within_years:
                raise ValueError("a registry feature takes no where / open_field / within_years")
            return self
        if self.item is None:
            raise ValueError(f"a {self.kind} feature needs an item")
        if self.kind == "count" and self.field is not None:
            raise ValueError("a count feature takes no field (it counts records)")
        if self.kind != "count" and self.field is None:
            raise ValueError(f"a {self.kind} feature needs the field it reads")
        return self

    @property
    def numeric(self) -> bool:
        """Whether the value is a number (else text)."""
        if self.kind == "registry":
            return RegistryField(self.field or "") in NUMERIC_REGISTRY
        return self.kind != "latest"

    def fields_read(self) -> set[str]:
        """The item's payload fields this feature reads."""
        names = set(self.where)
        if self.field is not None and self.kind != "registry":
            names.add(self.field)
        if self.open_field is not None:
            names.add(self.open_field)
        return names


class FeatureSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, max_length=32)
    effective_from: date
    features: tuple[Feature, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        seen: set[str] = set()
        for f in self.features:
            if f.code in seen:
                raise ValueError(f"feature {f.code!r} is defined twice")
            seen.add(f.code)
        return self

    def get(self, code: str) -> Feature:
        for f in self.features:
            if f.code == code:
                return f
        raise KeyError(code)

    def select(self, codes: Iterable[str]) -> FeatureSet:
        """The features named in ``codes`` (file order, same version); KeyError if unknown."""
        wanted = set(codes)
        unknown = wanted - {f.code for f in self.features}
        if unknown:
            raise KeyError(sorted(unknown)[0])
        chosen = tuple(f for f in self.features if f.code in wanted)
        return self.model_copy(update={"features": chosen})

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.features]

    def items(self) -> list[str]:
        """The catalog items the features read, in first-use order."""
        out: list[str] = []
        for f in self.features:
            if f.item is not None and f.item not in out:
                out.append(f.item)
        return out

    def fields(self) -> list[str]:
        """Every payload field some feature reads (sorted; one records column each)."""
        return sorted({name for f in self.features for name in f.fields_read()})

    def check_against(self, catalog: Catalog, *, source: str) -> None:
        """Every item and field named exists in the catalog, with a fitting type."""
        for f in self.features:
            if f.item is None:
                continue
            try:
                item = catalog.item(f.item)
            except KeyError:
                raise RatingFileError(
                    f"{source}: feature {f.code!r} reads item {f.item!r}, which is not in the "
                    "catalog; `rongxin catalog list` shows the items",
                    file=source,
                    field=f"features.{f.code}.item",
                ) from None
            names = {fd.name: fd for fd in item.fields}
            for name in sorted(f.fields_read()):
                if name not in names:
                    raise RatingFileError(
                        f"{source}: feature {f.code!r} reads field {name!r}, which item "
                        f"{item.code!r} does not have",
                        file=source,
                        field=f"features.{f.code}",
                    )
            numeric = (FieldType.integer, FieldType.decimal)
            if (
                f.kind in ("sum", "max")
                and f.field is not None
                and names[f.field].type not in numeric
            ):
                raise RatingFileError(
                    f"{source}: feature {f.code!r} takes the {f.kind} of "
                    f"{f.field!r}, which is not a number",
                    file=source,
                    field=f"features.{f.code}.field",
                )


def parse_features(text: str, *, source: str) -> FeatureSet:
    return data_files.parse(text, FeatureSet, source=source, error=RatingFileError)


def load_features(path: Path | None = None) -> FeatureSet:
    """The operator's feature file when given, else the shipped default."""
    return data_files.shipped_or_file(
        FeatureSet,
        shipped=DEFAULT_FEATURES,
        path=path,
        what="the rating-feature file",
        error=RatingFileError,
    )


# ---- the computation ----------------------------------------------------------------------------


def field_column(name: str) -> str:
    """The records input's column holding payload field ``name`` (as text; items that share a
    field name share the column, and every feature filters by its item)."""
    return f"f_{name}"


def _record_filter(feature: Feature, records: ir.Table, *, as_of: date) -> Any:
    import ibis

    assert feature.item is not None  # noqa: S101 - validated
    cond = records.item_code == feature.item
    if feature.within_years is not None:
        since = _years_before(as_of, feature.within_years)
        cond = (
            cond
            & (records.event_date > ibis.literal(since))
            & (records.event_date <= ibis.literal(as_of))
        )
    for name, values in feature.where.items():
        cond = cond & records[field_column(name)].isin(list(values))
    if feature.open_field is not None:
        column = records[field_column(feature.open_field)]
        cond = cond & (column.isnull() | (column == ""))
    return cond


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def feature_table(
    features: FeatureSet,
    *,
    records: ir.Table,
    registry: ir.Table,
    as_of: date,
    visible: ir.Table | None = None,
) -> ir.Table:
    """One row per registry entity: ``uscc``, every feature's value (counts are 0 when there
    are no records; other values are NULL without data), ``_sources`` (how many sources the
    entity has data in: the registry plus each of the features' items with a record) and
    ``_peer`` (its peer group).

    ``visible`` (``uscc, item_code``), when given, lists the items the viewer may read about
    each entity: a feature of any other item is NULL (unknown to the viewer, not zero).
    """
    import ibis

    aggregates: dict[str, Any] = {}
    for f in features.features:
        if f.kind == "registry":
            continue
        assert f.item is not None  # noqa: S101 - validated
        cond = _record_filter(f, records, as_of=as_of)
        if f.kind == "count":
            aggregates[f.code] = records.uscc.count(where=cond)
            continue
        assert f.field is not None  # noqa: S101 - validated
        text = records[field_column(f.field)]
        if f.kind == "latest":
            aggregates[f.code] = text.argmax(records.event_date, where=cond)
            continue
        value = text.cast("float64")
        aggregates[f.code] = value.sum(where=cond) if f.kind == "sum" else value.max(where=cond)
    wanted = features.items()
    aggregates[SOURCES_COLUMN] = records.item_code.nunique(where=records.item_code.isin(wanted))
    per_entity = records.group_by("uscc").aggregate(**aggregates)

    as_of_year = ibis.literal(as_of.year)
    reg = registry.select(
        uscc=registry.uscc,
        _age=_whole_years(registry.establish_date, as_of),
        _capital=registry.registered_capital.cast("float64"),
        _size=registry.size_class,
        _status=registry.status,
        _report_lag=(as_of_year - registry.annual_report_year.cast("int64")),
        _peer_key=(
            registry.region_code.substr(0, 2).fill_null("00")
            + "|"
            + registry.industry_section.fill_null("-")
            + "|"
            + registry.size_class.fill_null("unknown")
        ),
    )
    joined = reg.left_join(per_entity, reg.uscc == per_entity.uscc)
    if visible is not None:
        seen = visible.group_by("uscc").aggregate(
            **{f"_v{n}": (visible.item_code == item).any() for n, item in enumerate(wanted)}
        )
        joined = joined.left_join(seen, joined.uscc == seen.uscc)
    registry_values = {
        RegistryField.age_years: joined._age.cast("float64"),
        RegistryField.registered_capital: joined._capital,
        RegistryField.size_class: joined._size,
        RegistryField.status: joined._status,
        RegistryField.annual_report_lag: joined._report_lag.cast("float64"),
    }
    columns: dict[str, Any] = {"uscc": joined.uscc}
    for f in features.features:
        if f.kind == "registry":
            columns[f.code] = registry_values[RegistryField(f.field or "")]
            continue
        value = joined[f.code]
        if f.kind == "count":
            value = value.fill_null(0).cast("int64")
        if visible is not None:
            assert f.item is not None  # noqa: S101 - validated
            allowed = joined[f"_v{wanted.index(f.item)}"].fill_null(False)
            value = ibis.ifelse(allowed, value, ibis.null(value.type()))
        columns[f.code] = value
    columns[SOURCES_COLUMN] = (joined[SOURCES_COLUMN].fill_null(0) + 1).cast("int64")
    columns[PEER_COLUMN] = joined._peer_key
    return joined.select(**columns)


def _whole_years(start: Any, as_of: date) -> Any:
    """Whole years from ``start`` (a date column) to ``as_of`` (integer arithmetic on the
    year, month and day: identical on every engine)."""
    import ibis

    years = ibis.literal(as_of.year) - start.year()
    before_anniversary = (start.month() * 100 + start.day()) > (as_of.month * 100 + as_of.day)
    return years - ibis.ifelse(before_anniversary, 1, 0)
