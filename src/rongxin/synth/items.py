"""Which generator makes which catalog item, and a generic one for items an operator adds."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rongxin.catalog.schemas import FieldType, Item
from rongxin.synth import items_authorized as auth
from rongxin.synth import items_public as pub
from rongxin.synth import items_records as rec
from rongxin.synth.context import ChunkContext, Columns

Generator = Callable[[ChunkContext], Columns]

GENERATORS: dict[str, Generator] = {
    "registration": pub.registration,
    "annual_report": pub.annual_report,
    "shareholder": pub.shareholder,
    "registration_change": pub.registration_change,
    "admin_license": pub.admin_license,
    "emission_permit": pub.emission_permit,
    "construction_qualification": pub.construction_qualification,
    "admin_penalty": pub.admin_penalty,
    "env_credit_rating": pub.env_credit_rating,
    "court_judgment": rec.court_judgment,
    "court_enforcement": rec.court_enforcement,
    "consumption_restriction": rec.consumption_restriction,
    "dishonest_debtor": rec.dishonest_debtor,
    "serious_illegal_list": rec.serious_illegal_list,
    "abnormal_operation": rec.abnormal_operation,
    "major_tax_violation": rec.major_tax_violation,
    "honor": rec.honor,
    "tax_a_grade": rec.tax_a_grade,
    "policy_support": rec.policy_support,
    "specialized_sme": rec.specialized_sme,
    "new_agri_operator": rec.new_agri_operator,
    "tax_credit_rating": auth.tax_credit_rating,
    "tax_payment": auth.tax_payment,
    "tax_arrears": auth.tax_arrears,
    "rd_expense_deduction": auth.rd_expense_deduction,
    "social_insurance": auth.social_insurance,
    "housing_fund": auth.housing_fund,
    "customs_credit": auth.customs_credit,
    "import_export": auth.import_export,
    "electricity": auth.electricity,
    "water": auth.water,
    "gas": auth.gas,
    "real_estate": auth.real_estate,
    "land_management_right": auth.land_management_right,
    "patent": auth.patent,
    "trademark": auth.trademark,
    "copyright": auth.copyright,
    "tech_enterprise": auth.tech_enterprise,
    "movable_collateral": auth.movable_collateral,
    "insurance_coverage": auth.insurance_coverage,
    "self_financials": auth.self_financials,
    "self_statement": auth.self_statement,
}


def generic(item: Item) -> Generator:
    """Plausible rows for an item without a dedicated generator, from its field types alone."""

    def make(ctx: ChunkContext) -> Columns:
        owners = ctx.events(0.2)
        n = len(owners)
        cols: Columns = {"_owner": owners}
        for f in item.fields:
            if f.name == "uscc":
                continue
            lo = f.min if f.min is not None else 0
            hi = f.max if f.max is not None else lo + 1000
            match f.type:
                case FieldType.enum:
                    cols[f.name] = ctx.choice(list(f.allowed or []), n)
                case FieldType.integer:
                    cols[f.name] = ctx.rng.integers(int(lo), int(hi) + 1, n)
                case FieldType.decimal:
                    cols[f.name] = np.round(ctx.rng.uniform(lo, hi, n), 2)
                case FieldType.boolean:
                    cols[f.name] = ctx.rng.random(n) < 0.5
                case FieldType.date:
                    cols[f.name] = ctx.dates(owners, 3)
                case FieldType.month:
                    cols[f.name] = ctx.choice(ctx.months, n)
                case FieldType.region_code:
                    cols[f.name] = ctx.pop.region_code[owners]
                case FieldType.industry_code:
                    cols[f.name] = ctx.pop.industry[owners]
                case FieldType.id_number:
                    cols[f.name] = ctx.pop.legal_rep_id[owners]
                case FieldType.mobile:
                    cols[f.name] = np.char.add(
                        "139", np.char.mod("%08d", ctx.rng.integers(0, 10**8, n))
                    )
                case _:
                    cols[f.name] = ctx.ids(f"{item.code[:2].upper()}", n)
        return cols

    return make


def generator_for(item: Item) -> Generator:
    return GENERATORS.get(item.code) or generic(item)
