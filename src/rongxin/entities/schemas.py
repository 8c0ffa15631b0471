"""Market-entity API and CLI schemas (the table is ``models.MarketEntity``; never returned)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from rongxin.kit.pagination import Page


class EntitySummary(BaseModel):
    """One line of a search result."""

    model_config = ConfigDict(from_attributes=True)

    uscc: str
    name: str
    entity_type: str
    entity_type_name: str = Field(description="主体类型, e.g. 企业, 个体工商户")
    region_code: str
    region_full_name: str | None = Field(None, description="e.g. 福建省福州市鼓楼区")
    industry_code: str
    industry_name: str | None = None
    status: str
    size_class: str | None = None
    size_class_name: str | None = Field(None, description="大型/中型/小型/微型")
    establish_date: date


class EntityRead(EntitySummary):
    """Everything the node knows about one entity's registration and size."""

    region_name: str | None = Field(None, description="the region's own name, e.g. 鼓楼区")
    industry_section: str
    industry_section_name: str | None = Field(None, description="GB/T 4754-2017 门类")
    legal_rep_name: str
    registered_capital: float | None = Field(None, description="注册资本, 万元")
    size_rule: str | None = Field(None, description="id of the size-class rule set used")
    annual_report_year: int | None = None
    employees: int | None = None
    revenue: float | None = Field(None, description="营业收入, 万元 (latest annual report)")
    total_assets: float | None = Field(None, description="资产总额, 万元 (latest annual report)")
    origin_node: str
    updated_at: datetime


class EntityPage(Page[EntitySummary]):
    """A page of search results."""

    items: list[EntitySummary]


class UsccCheckRequest(BaseModel):
    codes: list[str] = Field(min_length=1, max_length=1000)


class UsccCheckResult(BaseModel):
    """The verdict on one code; ``check`` names the failing check when not valid."""

    code: str
    valid: bool
    reason: str | None = None
    check: str | None = None
    notes: list[str] = Field(default_factory=list)
    entity_type: str | None = None
    entity_type_name: str | None = None
    region_full_name: str | None = None


class ImportSummary(BaseModel):
    """What an import did. Counts are entities unless named otherwise."""

    registration_file: str
    annual_report_file: str | None = None
    registration_rows: int
    annual_report_rows: int = 0
    inserted: int
    updated: int
    unchanged: int
    sized: int = Field(description="entities whose size class is known after the import")
    name_grams_written: int
    origin_node: str
    as_of: date
    size_rule: str | None = None
