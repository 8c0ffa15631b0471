"""The rights rules as versioned data (``data/rights_rules.yaml``, DOMAIN.md §5, §6): objection
deadlines, the publicity periods that credit repair shortens, and the repair review deadline.

Publicity: the rule in force on a record's decision date applies. Its tier (轻微/一般/严重)
gives the minimum period (repairable from) and the maximum (publication ends on its own); a
special domain (特种设备, 安全生产, 消防) can raise the minimum. Periods are calendar months
from the decision date: a 一般 penalty decided on D under the 2026 rule is published on the days
before D + 12 months and is repairable from D + 3 months.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Final, TypeVar

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field, model_validator

from rongxin.catalog.schemas import Catalog
from rongxin.kit import data_files
from rongxin.rights.errors import RightsDataError

SHIPPED: Final = "rights_rules.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ObjectionRule(_Strict):
    code: str = Field(min_length=1, max_length=64)
    title: str
    title_en: str
    effective_date: date
    accept_working_days: int = Field(ge=1, le=30)
    provider_working_days: int = Field(ge=1, le=60)
    total_days: int = Field(ge=1, le=90)


class ItemFields(_Strict):
    """Which payload fields of an item carry the decision date, the tier and the domain."""

    decision_date: str
    tier: str
    domain: str | None = None


class Period(_Strict):
    min_months: int = Field(ge=0, le=120)
    max_months: int = Field(ge=0, le=120)

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.max_months < self.min_months:
            raise ValueError("max_months must not be less than min_months")
        return self


class DomainMinimum(_Strict):
    min_months: int = Field(ge=0, le=120)


class PublicityRule(_Strict):
    code: str = Field(min_length=1, max_length=64)
    title: str
    title_en: str
    effective_date: date
    items: dict[str, ItemFields] = Field(min_length=1)
    tiers: dict[str, Period] = Field(min_length=1)
    special_domains: dict[str, DomainMinimum] = Field(default_factory=dict)


class RepairRule(_Strict):
    review_working_days: int = Field(ge=1, le=60)


@dataclass(frozen=True, slots=True)
class Publicity:
    """A record's publicity terms under the rule that applies to it."""

    rule_code: str
    rule_title: str
    tier: str
    decision_date: date
    repairable_from: date  # the minimum period has passed
    published_until: date  # the first day it is no longer published (the maximum)

    def repairable(self, today: date) -> bool:
        return today >= self.repairable_from

    def ended(self, today: date) -> bool:
        return today >= self.published_until


class RightsRules(_Strict):
    version: str = Field(min_length=1, max_length=32)
    objection_rules: list[ObjectionRule] = Field(min_length=1)
    publicity_rules: list[PublicityRule] = Field(min_length=1)
    repair: RepairRule

    @model_validator(mode="after")
    def _unique(self) -> RightsRules:
        for name, rules in (
            ("objection_rules", self.objection_rules),
            ("publicity_rules", self.publicity_rules),
        ):
            codes = [r.code for r in rules]
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            if dupes:
                raise ValueError(f"{name}: codes found twice: {dupes}")
        return self

    def check_against(self, catalog: Catalog, *, source: str) -> None:
        """Every item and field the publicity rules name exists in the catalog."""
        for rule in self.publicity_rules:
            for code, fields in rule.items.items():
                item = next((i for i in catalog.items if i.code == code), None)
                if item is None:
                    raise RightsDataError(
                        f"{source}: publicity rule {rule.code} names item {code}, which the "
                        "catalog does not have",
                        file=source,
                    )
                names = {f.name for f in item.fields}
                for name in (fields.decision_date, fields.tier, fields.domain):
                    if name is not None and name not in names:
                        raise RightsDataError(
                            f"{source}: publicity rule {rule.code}: item {code} has no field "
                            f"{name}",
                            file=source,
                        )

    # ---- objections -----------------------------------------------------------------------

    def objection_rule(self, day: date) -> ObjectionRule:
        """The objection rule in force on ``day`` (the earliest one before any took effect)."""
        return _in_force(self.objection_rules, day)

    # ---- publicity ------------------------------------------------------------------------

    def repairable_items(self) -> set[str]:
        return {code for rule in self.publicity_rules for code in rule.items}

    def publicity_fields(self, item_code: str) -> list[str]:
        """The payload fields any publicity rule reads for ``item_code``."""
        names = {
            name
            for rule in self.publicity_rules
            if item_code in rule.items
            for name in (
                rule.items[item_code].decision_date,
                rule.items[item_code].tier,
                rule.items[item_code].domain,
            )
            if name
        }
        return sorted(names)

    def publicity(self, item_code: str, payload: dict[str, Any]) -> Publicity | None:
        """The record's publicity terms, or ``None`` when no rule covers its item or it lacks
        a decision date or a known tier."""
        candidates = [r for r in self.publicity_rules if item_code in r.items]
        if not candidates:
            return None
        first = candidates[0].items[item_code]
        decided = _as_date(payload.get(first.decision_date))
        if decided is None:
            return None
        rule = _in_force(candidates, decided)
        fields = rule.items[item_code]
        tier = payload.get(fields.tier)
        period = rule.tiers.get(str(tier)) if tier is not None else None
        if period is None:
            return None
        minimum = period.min_months
        domain = payload.get(fields.domain) if fields.domain else None
        if domain is not None and str(domain) in rule.special_domains:
            minimum = max(minimum, rule.special_domains[str(domain)].min_months)
        maximum = max(period.max_months, minimum)
        return Publicity(
            rule_code=rule.code,
            rule_title=rule.title,
            tier=str(tier),
            decision_date=decided,
            repairable_from=decided + relativedelta(months=minimum),
            published_until=decided + relativedelta(months=maximum),
        )


R = TypeVar("R", ObjectionRule, PublicityRule)


def _in_force(rules: list[R], day: date) -> R:
    ordered = sorted(rules, key=lambda r: r.effective_date)
    applicable = [r for r in ordered if r.effective_date <= day]
    return applicable[-1] if applicable else ordered[0]


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


@cache
def _cached(path: Path | None) -> RightsRules:
    return data_files.shipped_or_file(
        RightsRules, shipped=SHIPPED, path=path, what="the rights rules", error=RightsDataError
    )


def load_rules(path: Path | None = None) -> RightsRules:
    """The operator's rules file (``RONGXIN_RIGHTS_RULES_PATH``), else the shipped one."""
    return _cached(path)
