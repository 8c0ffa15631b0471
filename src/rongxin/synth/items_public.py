"""Generators for S1 public credit information (registration, licences, penalties, courts,
lists, honours, policy support). Each returns columns keyed by catalog field name plus
``_owner`` (the entity's index in the chunk)."""

from __future__ import annotations

import numpy as np

from rongxin.synth.context import ChunkContext, Columns, authority_names

SCOPES = {
    "A": "农作物种植；畜禽养殖；农产品初加工；农业技术推广服务。",
    "C": "生产、加工、销售本企业产品；货物进出口；技术进出口。",
    "E": "房屋建筑工程、市政工程施工；建筑装饰装修工程设计与施工。",
    "F": "日用百货、五金交电、食品销售；互联网销售（除销售需要许可的商品）。",
    "G": "普通货物道路运输；仓储服务（不含危险化学品）；货物运输代理。",
    "H": "餐饮服务；住宿服务；食品经营。",
    "I": "软件开发；信息技术咨询服务；信息系统集成服务；数据处理服务。",
    "L": "企业管理咨询；商务信息咨询；会议及展览服务；广告设计、代理。",
    "M": "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；检验检测服务。",
}
DEFAULT_SCOPE = "一般经营项目：除依法须经批准的项目外，凭营业执照依法自主开展经营活动。"


def registration(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    owners = np.arange(p.n)
    road = ctx.choice(
        ["人民", "解放", "建设", "中山", "新华", "长江", "黄河", "和平", "文化", "工业"], p.n
    )
    road = np.char.add(road, ctx.choice(["路", "大道", "街"], p.n))
    number = np.char.add(ctx.rng.integers(1, 999, p.n).astype(str), "号")
    status = ctx.choice(["存续", "在业", "吊销", "注销"], p.n, [0.80, 0.14, 0.02, 0.04])
    # riskier firms are likelier to have been struck off
    status = np.where((p.risk > 2.2) & (ctx.rng.random(p.n) < 0.3), "吊销", status)
    scope = np.array([SCOPES.get(s, DEFAULT_SCOPE) for s in p.section])
    return {
        "_owner": owners,
        "name": p.name,
        "legal_rep_name": p.legal_rep_name,
        "legal_rep_id_number": p.legal_rep_id,
        "registered_capital": np.where(p.type_prefix == "92", np.nan, p.capital),
        "establish_date": p.establish_date,
        "industry_code": p.industry,
        "region_code": p.region_code,
        "address": np.char.add(np.char.add(p.region_name, road), number),
        "business_scope": scope,
        "status": status,
        "registration_authority": authority_names(ctx, owners, "市场监督管理局"),
    }


def annual_report(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    year = p.as_of.year - 1
    cols: list[Columns] = []
    for back in (1, 0):  # the last two report years, oldest first
        y = year - back
        alive = p.establish_date < np.datetime64(f"{y}-12-31")
        # firms that skip their annual report are riskier
        files = ctx.rng.random(p.n) > np.clip(0.04 * np.exp(0.8 * p.risk), 0, 0.6)
        owners = np.flatnonzero(alive & files)
        growth = ctx.rng.normal(1.0 - 0.08 * back, 0.12, len(owners)).clip(0.3, 2.0)
        rev = np.round(p.revenue[owners] / growth ** (1 - back) if back else p.revenue[owners], 2)
        submitted = np.datetime64(f"{y + 1}-01-01") + ctx.rng.integers(0, 180, len(owners)).astype(
            "timedelta64[D]"
        )
        cols.append(
            {
                "_owner": owners,
                "report_year": np.full(len(owners), y),
                "employees": np.maximum(1, np.round(p.employees[owners] / growth)).astype(np.int64),
                "revenue": rev,
                "total_assets": p.assets[owners],
                "total_liabilities": p.liabilities[owners],
                "net_profit": np.round(rev * ctx.rng.normal(0.06 - 0.05 * p.risk[owners], 0.05), 2),
                "tax_total": np.round(rev * ctx.rng.uniform(0.01, 0.06, len(owners)), 2),
                "submitted_date": submitted,
            }
        )
    return {k: np.concatenate([c[k] for c in cols]) for k in cols[0]}


def shareholder(ctx: ChunkContext) -> Columns:
    from rongxin.synth.population import person_names

    p = ctx.pop
    counts = np.where(p.type_prefix == "91", ctx.rng.integers(1, 4, p.n), 0)
    owners = np.repeat(np.arange(p.n), counts)
    k = len(owners)
    first = np.r_[True, owners[1:] != owners[:-1]] if k else np.array([], bool)
    names = np.where(first, p.legal_rep_name[owners], person_names(ctx.rng, k))
    share = np.round(100.0 / counts[owners], 2)
    subscribed = np.round(p.capital[owners] * share / 100, 2)
    return {
        "_owner": owners,
        "shareholder_name": names,
        "shareholder_type": ctx.choice(["自然人股东", "企业法人"], k, [0.9, 0.1]),
        "subscribed_capital": subscribed,
        "paid_capital": np.round(subscribed * ctx.rng.choice([0, 0.2, 0.5, 1.0], k), 2),
        "share_ratio": share,
        "contribution_date": p.establish_date[owners],
    }


def registration_change(ctx: ChunkContext) -> Columns:
    owners = ctx.events(0.35)
    items = ["名称", "法定代表人", "注册资本", "住所", "经营范围", "股东", "企业类型"]
    return {
        "_owner": owners,
        "change_date": ctx.dates(owners, 5),
        "change_item": ctx.choice(items, len(owners), [0.08, 0.15, 0.15, 0.25, 0.25, 0.1, 0.02]),
        "before_value": np.full(len(owners), "（变更前内容）"),
        "after_value": np.full(len(owners), "（变更后内容）"),
    }


def admin_license(ctx: ChunkContext) -> Columns:
    p = ctx.pop
    rate = np.where(np.isin(p.section, ["H", "Q", "G", "C", "E"]), 0.9, 0.25)
    owners = ctx.events(rate)
    n = len(owners)
    decided = ctx.dates(owners, 6)
    names = {"H": "食品经营许可证", "Q": "医疗机构执业许可证", "G": "道路运输经营许可证",
             "C": "工业产品生产许可证", "E": "安全生产许可证"}  # fmt: skip
    lic = (
        np.array([names.get(s, "营业性经营许可") for s in p.section[owners]])
        if n
        else np.array([], str)
    )
    return {
        "_owner": owners,
        "license_no": ctx.ids("XK", n),
        "license_name": lic,
        "license_type": ctx.choice(
            ["普通", "特许", "认可", "核准", "登记"], n, [0.7, 0.05, 0.1, 0.1, 0.05]
        ),
        "content": lic,
        "decision_date": decided,
        "valid_from": decided,
        "valid_to": decided + np.timedelta64(5 * 365, "D"),
        "authority": authority_names(ctx, owners, "行政审批局"),
    }


def emission_permit(ctx: ChunkContext) -> Columns:
    owners = ctx.flags(0.35, np.isin(ctx.pop.section, ["B", "C", "D"]))
    n = len(owners)
    issued = ctx.dates(owners, 5)
    return {
        "_owner": owners,
        "permit_no": np.char.add(ctx.pop.uscc[owners], "001V"),
        "management_class": ctx.choice(["重点管理", "简化管理", "登记管理"], n, [0.1, 0.3, 0.6]),
        "issue_date": issued,
        "valid_to": issued + np.timedelta64(5 * 365, "D"),
    }


def construction_qualification(ctx: ChunkContext) -> Columns:
    owners = ctx.flags(0.7, ctx.pop.section == "E")
    n = len(owners)
    issued = ctx.dates(owners, 5)
    quals = ["建筑工程施工总承包三级", "建筑工程施工总承包二级", "建筑装修装饰工程专业承包二级",
             "市政公用工程施工总承包三级", "施工劳务不分等级"]  # fmt: skip
    return {
        "_owner": owners,
        "certificate_no": ctx.ids("D2", n),
        "qualification": ctx.choice(quals, n),
        "issue_date": issued,
        "valid_to": issued + np.timedelta64(5 * 365, "D"),
    }


def admin_penalty(ctx: ChunkContext) -> Columns:
    owners = ctx.events(ctx.risky(0.07, 0.9))
    n = len(owners)
    decided = ctx.dates(owners, 4)
    year = decided.astype("datetime64[Y]").astype(str)
    ptype = ctx.choice(
        ["警告", "罚款", "没收违法所得", "责令停产停业", "吊销许可证件", "通报批评"],
        n,
        [0.3, 0.55, 0.06, 0.03, 0.01, 0.05],
    )
    fine = np.where(ptype == "罚款", ctx.amount(ctx.risky(3000, 0.4, owners), 1.1, n), np.nan)
    severity = np.where(
        ctx.pop.risk[owners] + ctx.rng.normal(0, 1, n) > 2.2,
        "严重",
        ctx.choice(["轻微", "一般"], n, [0.35, 0.65]),
    )
    violations = ["未按规定公示信息", "食品安全违法", "产品质量违法", "消防违法", "安全生产违法",
                  "价格违法", "广告违法", "环境违法", "税务违法", "特种设备违法"]  # fmt: skip
    violation = ctx.choice(violations, n)
    domain = np.select(
        [violation == "消防违法", violation == "安全生产违法", violation == "特种设备违法"],
        ["消防", "安全生产", "特种设备"],
        "无",
    )
    return {
        "_owner": owners,
        "decision_no": np.char.add(
            np.char.add(np.char.add("罚字〔", year), "〕"), np.char.add(ctx.ids("", n), "号")
        ),
        "violation_type": violation,
        "violation_facts": np.char.add("经查，当事人存在", violation),
        "penalty_type": ptype,
        "fine_amount": fine,
        "confiscated_amount": np.where(ptype == "没收违法所得", ctx.amount(5000, 1.0, n), np.nan),
        "decision_date": decided,
        "authority": authority_names(ctx, owners, "市场监督管理局"),
        "severity": severity,
        "special_domain": domain,
    }


def env_credit_rating(ctx: ChunkContext) -> Columns:
    owners = ctx.flags(0.25, np.isin(ctx.pop.section, ["B", "C", "D"]))
    n = len(owners)
    r = ctx.pop.risk[owners] + ctx.rng.normal(0, 0.7, n)
    grade = np.select(
        [r < -0.8, r < 0.8, r < 1.8], ["环保诚信", "环保良好", "环保警示"], "环保不良"
    )
    y = ctx.pop.as_of.year - 1
    return {
        "_owner": owners,
        "rating_year": np.full(n, y),
        "grade": grade,
        "published_date": np.full(n, np.datetime64(f"{y + 1}-04-30")),
    }
