"""The catalog file's schema. The catalog is data: an operator replaces or extends it from a file
and no code change or migration follows (STYLE.md, Data)."""

from __future__ import annotations

from datetime import date
from enum import IntEnum, StrEnum
from functools import cached_property
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderKind(StrEnum):
    national_department = "national_department"  # the departments named in §4
    national_system = "national_system"  # 总对总 national-level systems
    utility = "utility"  # 水电气
    local_department = "local_department"
    enterprise = "enterprise"  # self-reported (S3)


class SharingMode(StrEnum):
    """Note 2 of the policy."""

    physical = "physical"  # 物理归集
    interface = "interface"  # 接口调用
    verification = "verification"  # 数据核验


class SharingAttribute(StrEnum):
    unconditional = "unconditional"  # 无条件共享
    conditional = "conditional"  # 有条件共享
    none = "none"  # 不予共享


class DisclosureAttribute(StrEnum):
    public = "public"  # 公开
    on_request = "on_request"  # 依申请公开
    not_public = "not_public"  # 不公开


class DataLevel(IntEnum):
    """JR/T 0197-2020 levels (DOMAIN.md §4)."""

    public = 1
    internal = 2
    sensitive = 3
    credential = 4
    important = 5


class UpdateFrequency(StrEnum):
    realtime = "realtime"
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    yearly = "yearly"
    on_change = "on_change"


class FieldType(StrEnum):
    string = "string"
    text = "text"
    integer = "integer"
    decimal = "decimal"
    boolean = "boolean"
    date = "date"
    month = "month"  # YYYY-MM
    enum = "enum"
    uscc = "uscc"
    id_number = "id_number"  # 居民身份证号, GB 11643
    region_code = "region_code"  # GB/T 2260
    industry_code = "industry_code"  # GB/T 4754-2017
    mobile = "mobile"


class MaskKind(StrEnum):
    """Masking conventions (DOMAIN.md §3)."""

    person_name = "person_name"
    id_number = "id_number"
    mobile = "mobile"
    bank_card = "bank_card"
    address = "address"
    account_number = "account_number"  # utility/insurance account numbers (JR/T 0197 C2)


class Provider(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    name_en: str
    kind: ProviderKind
    named_in_policy: bool = Field(False, description="one of the 14 departments named in §4")


class Category(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    name_en: str
    requirement: str = Field(pattern=r"^S[123]$", description="MISSION.md requirement id")
    report_section: str = Field(description="the report section this category renders in")


class FieldDef(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    label_en: str
    type: FieldType
    required: bool = False
    unit: str | None = None
    allowed: list[str] | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = Field(None, gt=0)
    level: DataLevel | None = Field(
        None, description="overrides the item's level for this field (就高从严: only upwards)"
    )
    mask: MaskKind | None = None

    @model_validator(mode="after")
    def _enum_has_values(self) -> Self:
        if self.type is FieldType.enum and not self.allowed:
            raise ValueError(f"field {self.name!r}: type enum needs a non-empty 'allowed' list")
        if self.type is not FieldType.enum and self.allowed:
            raise ValueError(f"field {self.name!r}: 'allowed' is only for type enum")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"field {self.name!r}: min is greater than max")
        return self


class Item(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    name_en: str
    description: str = ""
    category: str
    provider: str
    sharing_mode: SharingMode
    authorization_required: bool
    level: DataLevel
    sharing: SharingAttribute
    disclosure: DisclosureAttribute
    update_frequency: UpdateFrequency
    natural_key: list[str] = Field(min_length=1)
    event_date_field: str | None = Field(
        None, description="the field that dates the event (timeliness, as-of date, repair)"
    )
    fields: list[FieldDef] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [f.name for f in self.fields]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"item {self.code!r}: duplicate field names {dupes}")
        subject = [f for f in self.fields if f.name == "uscc"]
        if not subject or subject[0].type is not FieldType.uscc or not subject[0].required:
            raise ValueError(f"item {self.code!r}: needs a required field 'uscc' of type uscc")
        missing = [k for k in self.natural_key if k not in names]
        if missing:
            raise ValueError(f"item {self.code!r}: natural_key names unknown fields {missing}")
        if "uscc" not in self.natural_key:
            raise ValueError(f"item {self.code!r}: natural_key must include 'uscc'")
        by_name = {f.name: f for f in self.fields}
        optional_keys = [k for k in self.natural_key if not by_name[k].required]
        if optional_keys:
            raise ValueError(f"item {self.code!r}: natural_key fields must be required")
        if self.event_date_field is not None:
            f = by_name.get(self.event_date_field)
            if f is None or f.type not in (FieldType.date, FieldType.month):
                raise ValueError(
                    f"item {self.code!r}: event_date_field must name a date or month field"
                )
        for f in self.fields:
            if f.level is not None and f.level < self.level:
                raise ValueError(
                    f"item {self.code!r}: field {f.name!r} level {int(f.level)} is below the "
                    f"item's level {int(self.level)} (levels may only be raised: 就高从严)"
                )
        if self.sharing is SharingAttribute.none and self.disclosure is DisclosureAttribute.public:
            raise ValueError(f"item {self.code!r}: an item not shared cannot be public")
        return self

    def field(self, name: str) -> FieldDef:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @cached_property
    def is_public(self) -> bool:
        return self.disclosure is DisclosureAttribute.public and not self.authorization_required

    # What a viewer may see of the item's fields (``rongxin.access.policy.visible_fields``),
    # worked out once per (frozen) item: every report asks for each item and record. The
    # subject's own ``uscc`` is never repeated.
    @cached_property
    def all_fields(self) -> tuple[FieldDef, ...]:
        """Every field but ``uscc`` (authorized access, the subject, the provider)."""
        return tuple(f for f in self.fields if f.name != "uscc")

    @cached_property
    def public_fields(self) -> tuple[FieldDef, ...]:
        """The fields below data level 3 (敏感), but ``uscc`` (public access)."""
        return tuple(f for f in self.all_fields if (f.level or self.level) < DataLevel.sensitive)


class Catalog(_Strict):
    version: str
    title: str
    effective_date: date
    providers: list[Provider] = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    items: list[Item] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Self:
        for kind, codes in (
            ("provider", [p.code for p in self.providers]),
            ("category", [c.code for c in self.categories]),
            ("item", [i.code for i in self.items]),
        ):
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} codes: {dupes}")
        providers = {p.code for p in self.providers}
        categories = {c.code for c in self.categories}
        for item in self.items:
            if item.provider not in providers:
                raise ValueError(f"item {item.code!r}: unknown provider {item.provider!r}")
            if item.category not in categories:
                raise ValueError(f"item {item.code!r}: unknown category {item.category!r}")
        return self

    # lookups by code, built once per (frozen) catalog: every report looks up each item's
    # category and provider
    @cached_property
    def _items_by_code(self) -> dict[str, Item]:
        return {i.code: i for i in self.items}

    @cached_property
    def _providers_by_code(self) -> dict[str, Provider]:
        return {p.code: p for p in self.providers}

    @cached_property
    def _categories_by_code(self) -> dict[str, Category]:
        return {c.code: c for c in self.categories}

    def item(self, code: str) -> Item:
        return self._items_by_code[code]

    def provider(self, code: str) -> Provider:
        return self._providers_by_code[code]

    def category(self, code: str) -> Category:
        return self._categories_by_code[code]


# ---- API views ------------------------------------------------------------------------------


class ItemSummary(BaseModel):
    code: str
    name: str
    name_en: str
    category: str
    provider: str
    sharing_mode: SharingMode
    authorization_required: bool
    level: int
    sharing: SharingAttribute
    disclosure: DisclosureAttribute
    update_frequency: UpdateFrequency
    field_count: int


class ItemList(BaseModel):
    version: str
    effective_date: date
    items: list[ItemSummary]
    total: int
