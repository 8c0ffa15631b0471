"""Generators for courts, lists, honours and policy support (S1)."""

from __future__ import annotations

import numpy as np

from rongxin.synth.context import ChunkContext, Columns, authority_names

CAUSES = ["买卖合同纠纷", "借款合同纠纷", "劳动争议", "租赁合同纠纷", "建设工程施工合同纠纷",
          "服务合同纠纷", "金融借款合同纠纷", "承揽合同纠纷", "侵害商标权纠纷"]  # fmt: skip


def _case_no(ctx: ChunkContext, dates: np.ndarray, kind: str) -> np.ndarray:
    year = dates.astype("datetime64[Y]").astype(str)
    ids = np.char.add(ctx.ids("", len(dates)), "号")
    return np.char.add(np.char.add(np.char.add("（", year), f"）{kind}"), ids)


def court_judgment(ctx: ChunkContext) -> Columns:
    owners = ctx.events(ctx.risky(0.12, 0.6))
    n = len(owners)
    decided = ctx.dates(owners, 5)
    defendant = ctx.rng.random(n) < 1 / (1 + np.exp(-ctx.pop.risk[owners]))
    role = np.where(defendant, "被告", ctx.choice(["原告", "第三人"], n, [0.9, 0.1]))
    lost = ctx.rng.random(n) < np.where(defendant, 0.7, 0.25)
    return {
        "_owner": owners,
        "case_no": _case_no(ctx, decided, "民初"),
        "case_type": ctx.choice(["民事", "行政", "执行"], n, [0.9, 0.03, 0.07]),
        "cause": ctx.choice(CAUSES, n),
        "role": role,
        "amount": ctx.amount(80000, 1.3, n),
        "judgment_date": decided,
        "court": authority_names(ctx, owners, "人民法院"),
        "result": np.where(lost, "败诉", ctx.choice(["胜诉", "调解", "撤诉", "部分支持"], n)),
    }


def court_enforcement(ctx: ChunkContext) -> Columns:
    owners = ctx.events(ctx.risky(0.025, 1.3))
    n = len(owners)
    filed = ctx.dates(owners, 4)
    return {
        "_owner": owners,
        "case_no": _case_no(ctx, filed, "执"),
        "filing_date": filed,
        "court": authority_names(ctx, owners, "人民法院"),
        "amount": ctx.amount(60000, 1.2, n),
        "status": ctx.choice(["执行中", "终结本次执行", "执行完毕"], n, [0.35, 0.25, 0.4]),
    }


def consumption_restriction(ctx: ChunkContext) -> Columns:
    owners = ctx.events(ctx.risky(0.006, 1.5))
    n = len(owners)
    issued = ctx.dates(owners, 4)
    lifted = np.where(
        ctx.rng.random(n) < 0.3, issued + np.timedelta64(200, "D"), np.datetime64("NaT")
    )
    return {
        "_owner": owners,
        "case_no": _case_no(ctx, issued, "执限"),
        "issue_date": issued,
        "court": authority_names(ctx, owners, "人民法院"),
        "lifted_date": np.minimum(lifted, ctx.as_of64),
    }


def dishonest_debtor(ctx: ChunkContext) -> Columns:
    owners = ctx.events(ctx.risky(0.004, 1.6))
    n = len(owners)
    published = ctx.dates(owners, 4)
    performed = ctx.rng.random(n) < 0.25
    removed = published + ctx.rng.integers(60, 700, n).astype("timedelta64[D]")
    return {
        "_owner": owners,
        "case_no": _case_no(ctx, published, "执"),
        "publish_date": published,
        "court": authority_names(ctx, owners, "人民法院"),
        "obligation": np.full(n, "支付货款及利息"),
        "performance": np.where(
            performed, "已履行", ctx.choice(["全部未履行", "部分未履行"], n, [0.8, 0.2])
        ),
        "behavior": ctx.choice(
            ["有履行能力而拒不履行生效法律文书确定义务", "违反财产报告制度", "违反限制消费令"], n
        ),
        "removed_date": np.where(
            performed & (removed <= ctx.as_of64), removed, np.datetime64("NaT")
        ),
    }


def serious_illegal_list(ctx: ChunkContext) -> Columns:
    owners = ctx.flags(ctx.risky(0.0015, 1.6))
    n = len(owners)
    listed = ctx.dates(owners, 4)
    return {
        "_owner": owners,
        "listed_date": listed,
        "reason": ctx.choice(
            [
                "被列入经营异常名录届满3年仍未履行相关义务",
                "提交虚假材料取得登记",
                "严重违法行为受到较重行政处罚",
            ],
            n,
        ),
        "authority": authority_names(ctx, owners, "市场监督管理局"),
        "removed_date": np.full(n, np.datetime64("NaT")),
    }


def abnormal_operation(ctx: ChunkContext) -> Columns:
    owners = ctx.flags(ctx.risky(0.03, 1.0))
    n = len(owners)
    listed = ctx.dates(owners, 4)
    cured = ctx.rng.random(n) < 0.45
    removed = np.minimum(
        listed + ctx.rng.integers(10, 400, n).astype("timedelta64[D]"), ctx.as_of64
    )
    return {
        "_owner": owners,
        "listed_date": listed,
        "reason": ctx.choice(
            [
                "未按规定报送年度报告",
                "通过登记的住所无法联系",
                "公示信息隐瞒真实情况弄虚作假",
                "未按规定公示即时信息",
            ],
            n,
            [0.6, 0.3, 0.05, 0.05],
        ),
        "authority": authority_names(ctx, owners, "市场监督管理局"),
        "removed_date": np.where(cured, removed, np.datetime64("NaT")),
        "removal_reason": np.where(cured, "补报年度报告并公示", ""),
    }


def major_tax_violation(ctx: ChunkContext) -> Columns:
    owners = ctx.flags(ctx.risky(0.0008, 1.6), ctx.pop.type_prefix != "N2")
    n = len(owners)
    return {
        "_owner": owners,
        "case_no": ctx.ids("SW", n),
        "violation_type": ctx.choice(
            ["偷税", "逃避追缴欠税", "骗取出口退税", "虚开增值税专用发票", "其他"],
            n,
            [0.45, 0.15, 0.05, 0.3, 0.05],
        ),
        "amount": ctx.amount(400000, 1.0, n),
        "publish_date": ctx.dates(owners, 3),
        "removed_date": np.full(n, np.datetime64("NaT")),
    }


def honor(ctx: ChunkContext) -> Columns:
    owners = ctx.events(ctx.risky(0.03, -0.9), ctx.pop.type_prefix != "92")
    n = len(owners)
    names = [
        "守合同重信用企业",
        "诚信示范企业",
        "安全生产标准化企业",
        "劳动关系和谐企业",
        "纳税信用示范单位",
        "质量信得过单位",
    ]
    level = ctx.choice(["国家级", "省级", "市级", "县级"], n, [0.03, 0.17, 0.4, 0.4])
    return {
        "_owner": owners,
        "honor_name": ctx.choice(names, n),
        "honor_level": level,
        "grant_date": ctx.dates(owners, 5),
        "authority": np.where(
            level == "国家级", "国家有关部门", authority_names(ctx, owners, "人民政府")
        ),
    }


def tax_a_grade(ctx: ChunkContext) -> Columns:
    from rongxin.synth.items_authorized import tax_grades

    y = ctx.pop.as_of.year - 1
    grades, owners = tax_grades(ctx, y)
    keep = owners[grades == "A"]
    return {
        "_owner": keep,
        "rating_year": np.full(len(keep), y),
        "published_date": np.full(len(keep), np.datetime64(f"{y + 1}-04-20")),
    }


def policy_support(ctx: ChunkContext) -> Columns:
    owners = ctx.events(ctx.risky(0.06, -0.5), ctx.pop.type_prefix != "92")
    n = len(owners)
    kind = ctx.choice(
        ["财政补贴", "贷款贴息", "担保费补贴", "风险补偿", "税费减免"],
        n,
        [0.4, 0.2, 0.15, 0.1, 0.15],
    )
    return {
        "_owner": owners,
        "document_no": ctx.ids("ZC", n),
        "policy_name": np.char.add("中小微企业", kind),
        "support_type": kind,
        "amount": ctx.amount(8, 1.0, n),
        "grant_date": ctx.dates(owners, 3),
        "authority": authority_names(ctx, owners, "财政局"),
    }


def specialized_sme(ctx: ChunkContext) -> Columns:
    owners = ctx.flags(
        ctx.risky(0.02, -0.8), np.isin(ctx.pop.section, ["C", "I", "M"]) & ctx.pop.is_enterprise
    )
    n = len(owners)
    recognized = ctx.dates(owners, 3)
    return {
        "_owner": owners,
        "recognition_level": ctx.choice(
            ["创新型中小企业", "专精特新中小企业", "专精特新“小巨人”企业"], n, [0.6, 0.33, 0.07]
        ),
        "recognized_date": recognized,
        "valid_to": recognized + np.timedelta64(3 * 365, "D"),
    }


def new_agri_operator(ctx: ChunkContext) -> Columns:
    owners = ctx.flags(0.2, np.isin(ctx.pop.type_prefix, ["93", "N2"]) | (ctx.pop.section == "A"))
    n = len(owners)
    return {
        "_owner": owners,
        "designation": np.where(
            ctx.pop.type_prefix[owners] == "93",
            "农民合作社示范社",
            ctx.choice(["示范家庭农场", "农业产业化龙头企业"], n),
        ),
        "designation_level": ctx.choice(
            ["国家级", "省级", "市级", "县级"], n, [0.02, 0.15, 0.33, 0.5]
        ),
        "designated_date": ctx.dates(owners, 4),
    }
