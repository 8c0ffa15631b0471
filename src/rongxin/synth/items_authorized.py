"""Generators for S2 information (tax, social insurance, customs, utilities, real estate, IP,
research, finance) and S3 self-reported information. Monthly series carry the hidden risk as
late payments, arrears and shrinking headcounts."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rongxin.synth.context import ChunkContext, Columns, authority_names


def tax_grades(ctx: ChunkContext, year: int) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.int64]]:
    """Tax credit grades for one year; the same draw feeds tax_credit_rating and tax_a_grade."""
    p = ctx.pop
    rng = np.random.default_rng([p.offset, year, 11])  # independent of the item's own stream
    owners = np.flatnonzero(
        np.isin(p.type_prefix, ["91", "93"]) & (p.establish_date < np.datetime64(f"{year}-01-01"))
    )
    score = 80 - 11 * p.risk[owners] + rng.normal(0, 6, len(owners))
    new = p.establish_date[owners] > np.datetime64(f"{year - 1}-01-01")
    grade = np.select(
        [score >= 90, score >= 70, score >= 40, score >= 20], ["A", "B", "B", "C"], "D"
    )
    grade = np.where(new & (grade != "D"), "M", grade)
    return grade, owners


def tax_credit_rating(ctx: ChunkContext) -> Columns:
    cols = []
    for y in (ctx.pop.as_of.year - 2, ctx.pop.as_of.year - 1):
        grade, owners = tax_grades(ctx, y)
        cols.append(
            {
                "_owner": owners,
                "rating_year": np.full(len(owners), y),
                "grade": grade,
                "score": np.round(
                    np.clip(
                        80 - 11 * ctx.pop.risk[owners] + ctx.rng.normal(0, 6, len(owners)), 0, 100
                    ),
                    1,
                ),
                "rated_date": np.full(len(owners), np.datetime64(f"{y + 1}-04-20")),
            }
        )
    return {k: np.concatenate([c[k] for c in cols]) for k in cols[0]}


def _late(ctx: ChunkContext, owners: npt.NDArray[np.int64], base: float) -> npt.NDArray[np.bool_]:
    result: npt.NDArray[np.bool_] = ctx.rng.random(len(owners)) < np.clip(
        ctx.risky(base, 1.1, owners), 0, 0.9
    )
    return result


def tax_payment(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    payers = np.flatnonzero(np.isin(p.type_prefix, ["91", "93"]) | (ctx.rng.random(p.n) < 0.25))
    owners, period = ctx.monthly(payers)
    n = len(owners)
    monthly_rev = p.revenue[owners] * 10000 / 12 * ctx.rng.lognormal(0, 0.25, n)
    vat = np.round(monthly_rev * ctx.rng.uniform(0.01, 0.04, n), 2)
    quarter_end = np.isin(
        np.char.ljust(np.char.partition(period, "-")[:, 2], 2) if n else period,
        ["03", "06", "09", "12"],
    )
    cit_owners, cit_period = owners[quarter_end], period[quarter_end]
    cit = np.round(monthly_rev[quarter_end] * 3 * ctx.rng.uniform(0.0, 0.025, len(cit_owners)), 2)
    return {
        "_owner": np.concatenate([owners, cit_owners]),
        "period": np.concatenate([period, cit_period]),
        "tax_type": np.concatenate([np.full(n, "增值税"), np.full(len(cit_owners), "企业所得税")]),
        "taxable_revenue": np.concatenate(
            [np.round(monthly_rev, 2), np.round(monthly_rev[quarter_end] * 3, 2)]
        ),
        "tax_paid": np.concatenate([vat, cit]),
        "declared_on_time": ~np.concatenate(
            [_late(ctx, owners, 0.02), _late(ctx, cit_owners, 0.02)]
        ),
    }


def tax_arrears(ctx: ChunkContext) -> Columns:
    owners = ctx.events(ctx.risky(0.008, 1.4), ctx.pop.type_prefix != "N2")
    n = len(owners)
    return {
        "_owner": owners,
        "tax_type": ctx.choice(
            ["增值税", "企业所得税", "城镇土地使用税", "房产税", "其他"],
            n,
            [0.5, 0.25, 0.1, 0.1, 0.05],
        ),
        "arrears_amount": ctx.amount(30000, 1.2, n),
        "announce_date": ctx.dates(owners, 3),
        "authority": authority_names(ctx, owners, "税务局"),
    }


def rd_expense_deduction(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    owners = ctx.flags(0.3, np.isin(p.section, ["C", "I", "M"]) & p.is_enterprise)
    n = len(owners)
    y = p.as_of.year - 1
    rd = np.round(p.revenue[owners] * ctx.rng.uniform(0.02, 0.12, n), 2)
    return {
        "_owner": owners,
        "tax_year": np.full(n, y),
        "rd_expense": rd,
        "deduction_amount": rd,
        "filed_date": np.full(n, np.datetime64(f"{y + 1}-05-31")),
    }


def social_insurance(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    insured = ctx.flags(np.where(p.type_prefix == "91", 0.85, 0.15))
    owners, period = ctx.monthly(insured)
    n = len(owners)
    # risky firms shed staff over the window and fall into arrears
    months_left = np.searchsorted(np.array(ctx.months), period)
    trend = 1 - 0.015 * np.clip(p.risk[owners], 0, None) * months_left
    count = np.maximum(
        1, np.round(p.employees[owners] * 0.8 * trend * ctx.rng.normal(1, 0.03, n))
    ).astype(np.int64)
    due = np.round(count * ctx.rng.uniform(1100, 1600, n), 2)
    short = _late(ctx, owners, 0.03)
    paid = np.where(short, np.round(due * ctx.rng.uniform(0, 0.8, n), 2), due)
    return {
        "_owner": owners,
        "period": period,
        "insured_count": count,
        "amount_due": due,
        "amount_paid": paid,
        "arrears_months": np.where(short, ctx.rng.integers(1, 6, n), 0),
    }


def housing_fund(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    owners, period = ctx.monthly(ctx.flags(np.where(p.type_prefix == "91", 0.4, 0.0)))
    n = len(owners)
    count = np.maximum(1, np.round(p.employees[owners] * 0.6)).astype(np.int64)
    late = _late(ctx, owners, 0.02)
    return {
        "_owner": owners,
        "period": period,
        "depositor_count": count,
        "amount_paid": np.where(late, 0.0, np.round(count * ctx.rng.uniform(300, 900, n), 2)),
        "status": np.where(late, ctx.choice(["缓缴", "欠缴"], n, [0.4, 0.6]), "正常"),
    }


def customs_credit(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    owners = ctx.flags(0.12, np.isin(p.section, ["C", "F"]) & p.is_enterprise)
    n = len(owners)
    r = p.risk[owners] + ctx.rng.normal(0, 0.5, n)
    return {
        "_owner": owners,
        "customs_code": np.char.add(p.region_code[owners], ctx.ids("", n)),
        "credit_grade": np.select(
            [r < -1.6, r > 2.3], ["高级认证企业", "失信企业"], "其他注册登记和备案企业"
        ),
        "effective_date": ctx.dates(owners, 6),
    }


def import_export(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    owners, period = ctx.monthly(ctx.flags(0.1, np.isin(p.section, ["C", "F"]) & p.is_enterprise))
    n = len(owners)
    trade = p.revenue[owners] * 10000 / 12 * ctx.rng.uniform(0.1, 0.6, n)
    exp_share = ctx.rng.uniform(0.2, 0.9, n)
    active = ctx.rng.random(n) < 0.8
    return {
        "_owner": owners,
        "period": period,
        "declarations": np.where(active, ctx.rng.integers(1, 30, n), 0),
        "import_value": np.where(active, np.round(trade * (1 - exp_share), 2), 0.0),
        "export_value": np.where(active, np.round(trade * exp_share, 2), 0.0),
    }


def _utility(
    ctx: ChunkContext,
    prob: npt.NDArray[np.float64],
    price: float,
    scale: npt.NDArray[np.float64],
    prefix: str,
) -> Columns:
    """Monthly bills: usage scales with headcount and industry; risky firms pay late."""
    p = ctx.pop
    customers = ctx.flags(prob)
    account = np.char.add(prefix, np.char.mod("%010d", customers + p.offset))
    owners, period = ctx.monthly(customers)
    n = len(owners)
    slot = np.searchsorted(customers, owners)  # customers is sorted: owner -> its account
    usage = np.round(p.employees[owners] * scale[owners] * ctx.rng.lognormal(0, 0.3, n), 2)
    due = np.round(usage * price, 2)
    overdue = np.where(_late(ctx, owners, 0.04), ctx.rng.integers(5, 120, n), 0)
    return {
        "_owner": owners,
        "account_no": account[slot],
        "period": period,
        "consumption": usage,
        "amount_due": due,
        "amount_paid": np.where(overdue > 60, np.round(due * ctx.rng.uniform(0, 0.5, n), 2), due),
        "overdue_days": overdue,
    }


def electricity(ctx: ChunkContext) -> Columns:
    heavy = np.isin(ctx.pop.section, ["B", "C", "D"])
    return _utility(ctx, np.full(ctx.pop.n, 0.9), 0.75, np.where(heavy, 900.0, 250.0), "DL")


def water(ctx: ChunkContext) -> Columns:
    heavy = np.isin(ctx.pop.section, ["C", "H", "D"])
    return _utility(ctx, np.full(ctx.pop.n, 0.6), 4.1, np.where(heavy, 12.0, 2.5), "SS")


def gas(ctx: ChunkContext) -> Columns:
    users = np.isin(ctx.pop.section, ["C", "H"])
    return _utility(ctx, np.where(users, 0.5, 0.03), 3.6, np.where(users, 40.0, 5.0), "RQ")


def real_estate(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    owners = ctx.events(np.where(p.is_enterprise, 0.25, 0.03))
    n = len(owners)
    kind = ctx.choice(
        ["国有建设用地使用权", "房屋所有权", "厂房", "商铺", "其他"], n, [0.2, 0.35, 0.2, 0.2, 0.05]
    )
    pledged = ctx.rng.random(n) < np.clip(0.3 + 0.15 * p.risk[owners], 0.05, 0.9)
    seized = ctx.rng.random(n) < np.clip(ctx.risky(0.01, 1.5, owners), 0, 0.5)
    return {
        "_owner": owners,
        "certificate_no": np.char.add("不动产权第", np.char.add(ctx.ids("", n), "号")),
        "property_type": kind,
        "location": np.char.add(
            p.region_name[owners], ctx.choice(["工业园区", "商业街", "开发区", "科技园"], n)
        ),
        "area": ctx.amount(np.where(kind == "商铺", 120, 1500), 0.8, n),
        "registration_date": ctx.dates(owners, 15),
        "encumbrance": np.select([seized, pledged], ["已查封", "已抵押"], "无"),
    }


def land_management_right(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    owners = ctx.flags(0.55, np.isin(p.type_prefix, ["93", "N2"]) | (p.section == "A"))
    n = len(owners)
    start = ctx.dates(owners, 8)
    return {
        "_owner": owners,
        "contract_no": ctx.ids("TD", n),
        "area_mu": ctx.amount(150, 0.9, n),
        "start_date": start,
        "end_date": start + (ctx.rng.integers(5, 16, n) * 365).astype("timedelta64[D]"),
        "mortgaged": ctx.rng.random(n) < 0.15,
    }


def patent(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    rate = np.where(np.isin(p.section, ["C", "I", "M"]) & p.is_enterprise, 0.6, 0.02)
    owners = ctx.events(rate)
    n = len(owners)
    kind = ctx.choice(["发明", "实用新型", "外观设计"], n, [0.25, 0.6, 0.15])
    applied = ctx.dates(owners, 8)
    granted = applied + np.where(kind == "发明", 700, 240).astype("timedelta64[D]")
    status = np.where(granted > ctx.as_of64, "审中", ctx.choice(["有效", "失效"], n, [0.85, 0.15]))
    year = applied.astype("datetime64[Y]").astype(str)
    return {
        "_owner": owners,
        "patent_no": np.char.add(np.char.add("CN", year), ctx.ids("", n)),
        "patent_type": kind,
        "title": np.char.add(
            ctx.choice(["一种", "一种新型", "基于物联网的"], n),
            ctx.choice(["检测装置", "加工方法", "控制系统", "包装结构", "清洗设备"], n),
        ),
        "application_date": applied,
        "grant_date": np.where(status == "审中", np.datetime64("NaT"), granted),
        "legal_status": status,
        "pledged": ctx.rng.random(n) < 0.03,
    }


def trademark(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    owners = ctx.events(np.where(p.type_prefix == "91", 0.35, 0.03))
    n = len(owners)
    registered = ctx.dates(owners, 12)
    brand = (
        np.array([name[2:4] if len(name) > 4 else name for name in p.name[owners]])
        if n
        else np.array([], str)
    )
    return {
        "_owner": owners,
        "registration_no": np.char.add("TM", ctx.ids("", n)),
        "trademark_name": brand,
        "nice_class": ctx.rng.integers(1, 46, n),
        "registration_date": registered,
        "expiry_date": registered + np.timedelta64(3652, "D"),
    }


def copyright(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    owners = ctx.events(np.where(p.section == "I", 1.2, np.where(p.section == "R", 0.5, 0.02)))
    n = len(owners)
    registered = ctx.dates(owners, 8)
    year = registered.astype("datetime64[Y]").astype(str)
    kind = np.where(
        p.section[owners] == "I", "计算机软件", ctx.choice(["文字", "美术", "摄影", "视听"], n)
    )
    return {
        "_owner": owners,
        "registration_no": np.char.add(np.char.add(year, "SR"), ctx.ids("", n)),
        "work_type": kind,
        "title": np.char.add(
            ctx.choice(["智慧", "云", "数字化", "企业"], n),
            ctx.choice(["管理系统V1.0", "平台软件", "作品集", "应用软件"], n),
        ),
        "registration_date": registered,
    }


def tech_enterprise(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    owners = ctx.flags(ctx.risky(0.08, -0.6), np.isin(p.section, ["C", "I", "M"]) & p.is_enterprise)
    n = len(owners)
    recognized = ctx.dates(owners, 3)
    kind = ctx.choice(["高新技术企业", "科技型中小企业"], n, [0.35, 0.65])
    return {
        "_owner": owners,
        "certificate_no": np.char.add(np.where(kind == "高新技术企业", "GR", "KJ"), ctx.ids("", n)),
        "recognition": kind,
        "recognized_date": recognized,
        "valid_to": recognized
        + np.where(kind == "高新技术企业", 3 * 365, 365).astype("timedelta64[D]"),
    }


def movable_collateral(ctx: ChunkContext) -> Columns:
    owners = ctx.events(np.where(ctx.pop.is_enterprise, ctx.risky(0.06, 0.3), 0.0))
    n = len(owners)
    registered = ctx.dates(owners, 4)
    return {
        "_owner": owners,
        "registration_no": ctx.ids("DC", n),
        "registration_type": ctx.choice(
            ["应收账款质押", "应收账款转让（保理）", "融资租赁", "存货和仓单质押", "生产设备抵押"],
            n,
            [0.35, 0.2, 0.25, 0.1, 0.1],
        ),
        "role": np.full(n, "出质人/担保人"),
        "secured_amount": ctx.amount(200, 1.0, n),
        "registration_date": registered,
        "expiry_date": registered + np.timedelta64(3 * 365, "D"),
    }


def insurance_coverage(ctx: ChunkContext) -> Columns:
    owners = ctx.events(np.where(ctx.pop.type_prefix == "92", 0.1, 0.45))
    n = len(owners)
    start = ctx.dates(owners, 1)
    return {
        "_owner": owners,
        "policy_no": ctx.ids("BD", n),
        "insurance_type": ctx.choice(
            ["企业财产险", "安全生产责任险", "出口信用保险", "雇主责任险", "农业保险"],
            n,
            [0.4, 0.2, 0.05, 0.25, 0.1],
        ),
        "sum_insured": ctx.amount(300, 1.1, n),
        "start_date": start,
        "end_date": start + np.timedelta64(365, "D"),
        "claims": ctx.rng.poisson(np.clip(ctx.risky(0.1, 0.5, owners), 0, 5)),
    }


def self_financials(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    owners = ctx.flags(0.04, p.is_enterprise)
    n = len(owners)
    y = p.as_of.year - 1
    # self-reported figures flatter a little, the riskier the more
    flatter = 1 + np.clip(0.05 * p.risk[owners], 0, 0.3)
    return {
        "_owner": owners,
        "fiscal_year": np.full(n, y),
        "revenue": np.round(p.revenue[owners] * flatter, 2),
        "total_assets": p.assets[owners],
        "total_liabilities": p.liabilities[owners],
        "net_profit": np.round(p.revenue[owners] * 0.06, 2),
        "audited": ctx.rng.random(n) < 0.3,
        "commitment_version": np.full(n, "CC-2026.1"),
        "reported_date": ctx.dates(owners, 0.5),
    }


def self_statement(ctx: ChunkContext) -> Columns:
    owners = ctx.flags(0.01, ctx.pop.type_prefix != "N2")
    n = len(owners)
    kind = ctx.choice(["合同履约", "资质证书", "情况说明", "其他"], n, [0.4, 0.3, 0.25, 0.05])
    return {
        "_owner": owners,
        "statement_id": ctx.ids("ZS", n),
        "statement_type": kind,
        "title": np.char.add("关于", np.char.add(kind, "的说明")),
        "content": np.full(n, "本单位承诺所填报信息真实、准确、完整，如有不实，愿承担相应责任。"),
        "commitment_version": np.full(n, "CC-2026.1"),
        "reported_date": ctx.dates(owners, 1),
    }
