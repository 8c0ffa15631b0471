"""The report's fixed wording (zh-CN, English) and its summary-flag rules.

Pairs are ``(Chinese, English)``. Changing a text here changes every report issued afterwards;
the JSON shape does not change (``SCHEMA_VERSION`` stays).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from rongxin.records.schemas import RecordStatus
from rongxin.reports.schemas import Restriction, SectionCode

SECTION_TITLES: Final[dict[str, tuple[str, str]]] = {
    SectionCode.basic: ("基本信息", "Basic information"),
    SectionCode.public_records: ("公共信用信息", "Public credit records"),
    SectionCode.authorized: ("经授权查询信息", "Information released with authorization"),
    SectionCode.self_reported: ("自主填报信息", "Self-reported information"),
}
SECTION_NOTES: Final[dict[str, tuple[str, str]]] = {
    SectionCode.authorized: (
        "以下信息需经企业授权后可见，本报告不予列示。",
        "The following information is visible with the enterprise's authorization; "
        "this report does not show it.",
    ),
    f"{SectionCode.authorized}.shown": (
        "以下信息经企业授权或由信息主体本人查询而列示；经授权列示的个人信息已按规定脱敏，"
        "仅限授权用途使用。未获授权的事项仍不予列示。",
        "The following information is shown under the enterprise's authorization or to the "
        "information subject itself; personal data shown under an authorization is masked and "
        "may be used only for the authorized purpose. Items not authorized are not shown.",
    ),
    SectionCode.self_reported: (
        "以下信息由信息主体自主填报并作出信用承诺，标注为“自主填报”，平台未核实其真实性。",
        "The following information is self-reported by the information subject under a "
        "credit commitment and labelled as such; the platform has not verified it.",
    ),
}
RESTRICTION_NOTES: Final[dict[Restriction, tuple[str, str]]] = {
    Restriction.authorization_required: (
        "需经企业授权后可见",
        "Visible with the enterprise's authorization",
    ),
    Restriction.on_request: (
        "依申请公开：信息主体本人或经其授权可查询",
        "Disclosed on request: to the subject itself or with its authorization",
    ),
    Restriction.not_public: ("不公开", "Not public"),
    Restriction.verification_only: (
        "仅供数据核验，数值不出提供单位",
        "For data verification only; values stay with the provider",
    ),
    Restriction.not_shared: ("不予共享", "Not shared"),
    Restriction.provider_unavailable: (
        "数据提供单位接口暂时无法访问，本部分暂不可用",
        "Section temporarily unavailable: the provider did not answer",
    ),
}
STATUS_NAMES: Final[dict[RecordStatus, tuple[str, str]]] = {
    RecordStatus.published: ("公示中", "Published"),
    RecordStatus.disputed: ("异议中", "Under objection"),
    RecordStatus.annotated: ("异议已标注", "Objection on record"),
    RecordStatus.repaired: ("已修复", "Repaired"),
    RecordStatus.expired: ("已过公示期", "Publicity period ended"),
}
#: the summary's rating note: with a rating, why there is none yet, or why it is not shown
RATING_NOTES: Final[dict[str, tuple[str, str]]] = {
    "rated": (
        "信用评价由平台中小微企业信用评价体系（{system} {version}）依据公开信用信息评定，"
        "评价基准日{day}，分值0–{scale}分；仅供参考，不构成授信建议。",
        "Rated by the platform's SME credit evaluation ({system} {version}) on publicly "
        "disclosable information only, as of {day}, on a scale of 0–{scale}; for reference, "
        "not a lending recommendation.",
    ),
    "unrated": (
        "该主体尚无信用评价结果：平台定期对全部市场主体开展评价，新登记主体在下一次评价后显示。",
        "No credit rating of this entity yet: the platform rates every market entity "
        "periodically, and a newly registered one is shown after the next run.",
    ),
    "not_shown": (
        "本次查询不显示信用评价：企业账户仅可通过自查（本企业、self_query）查看本企业的评价。",
        "The credit rating is not shown to this inquiry: an enterprise account sees only its own "
        "rating, in a self-query (self_query).",
    ),
}


def rating_note(case: str, *, day: date | None = None, **values: object) -> tuple[str, str]:
    """The summary's rating note (Chinese, English) for ``case`` (a key of ``RATING_NOTES``),
    with the rating's ``day`` and ``values`` filled in."""
    zh, en = RATING_NOTES[case]
    if day is None:
        return zh, en
    return zh.format(day=_cn_day(day), **values), en.format(day=day.isoformat(), **values)


def _cn_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True, slots=True)
class FlagRule:
    """A summary flag: active while a record of ``item_code`` is in force.

    In force means: ``end_field`` (removal/lift date) is empty or in the future, and, when
    ``amount_field`` is set, that amount is positive.
    """

    code: str
    item_code: str
    name: str
    name_en: str
    end_field: str | None = None
    amount_field: str | None = None


FLAG_RULES: Final = (
    FlagRule(
        "dishonest_debtor", "dishonest_debtor", "失信被执行人", "Dishonest judgment debtor",
        end_field="removed_date",
    ),
    FlagRule(
        "serious_illegal", "serious_illegal_list", "严重违法失信名单",
        "Serious violations of law and trust", end_field="removed_date",
    ),
    FlagRule(
        "abnormal_operation", "abnormal_operation", "经营异常名录", "Abnormal operations list",
        end_field="removed_date",
    ),
    FlagRule(
        "major_tax_violation", "major_tax_violation", "重大税收违法失信主体",
        "Major tax violator", end_field="removed_date",
    ),
    FlagRule(
        "consumption_restriction", "consumption_restriction", "限制高消费",
        "Consumption restriction", end_field="lifted_date",
    ),
    FlagRule(
        "tax_arrears", "tax_arrears", "欠税", "Tax arrears", amount_field="arrears_amount"
    ),
)  # fmt: skip


#: what the report contains, by the widest ground the viewer saw items on
SCOPE_NOTES: Final[dict[str, tuple[str, str]]] = {
    "public": (
        "本报告仅含依法可公开的信用信息，已剔除涉及个人隐私和商业秘密的内容；"
        "需经企业授权的信息未予列示。每项信息均注明来源单位、截至日期和状态。",
        "This report contains only publicly disclosable credit information, without "
        "personal or trade secrets; information that needs the enterprise's "
        "authorization is not shown. Each item names its source, as-of date and status.",
    ),
    "authorized": (
        "本报告含依法可公开的信用信息，以及经信息主体授权、在授权范围（事项、用途、期限）内"
        "提供的信息；个人信息已按规定脱敏。授权信息仅限授权用途使用，不得对外提供。"
        "每项信息均注明来源单位、截至日期、状态和所依据的授权。",
        "This report contains publicly disclosable credit information and, within the "
        "scope of the information subject's authorization (items, purpose, period), "
        "authorized information with personal data masked. Authorized information may be "
        "used only for the authorized purpose and must not be passed on. Each item names its "
        "source, as-of date, status and the authorization it is shown under.",
    ),
    "own": (
        "本报告为信息主体本人查询，列示平台掌握的本主体全部信息（含非公开信息），未脱敏，"
        "免费提供，请妥善保管。",
        "This report was requested by the information subject itself and shows all the "
        "information the platform holds about it, including non-public information, "
        "unmasked and free of charge. Keep it safe.",
    ),
}


def notices(
    purpose_name: str,
    purpose_name_en: str,
    data_as_of: date,
    *,
    authorized: bool = False,
    own: bool = False,
) -> list[dict[str, str]]:
    """The report's notices (``ReportNotice`` as plain data)."""
    day = _cn_day(data_as_of)
    scope, scope_en = SCOPE_NOTES["own" if own else "authorized" if authorized else "public"]
    return [
        {
            "code": "objection",
            "text": (
                "信息主体对本报告所列信息有异议的，可通过本平台或向数据提供单位提出异议申诉"
                "（异议申诉）。平台收到异议后即对相关信息作“异议中”标注，并在20日内完成核查、"
                "书面答复核查结果；无法确认的，核查结果与异议一并记载。"
            ),
            "text_en": (
                "If the information subject disputes any information in this report, it may "
                "object through this platform or to the data provider. On receiving an "
                "objection the platform marks the information 'under objection' at once, "
                "verifies it within 20 days and replies in writing; where it cannot be "
                "decided, the verification result and the objection are both recorded."
            ),
        },
        {
            "code": "self_reported",
            "text": "标注为“自主填报”的信息由信息主体自愿填报并作出信用承诺，平台未核实其真实性。",
            "text_en": (
                "Information labelled 'self-reported' was provided voluntarily by the "
                "information subject under a credit commitment; the platform has not "
                "verified it."
            ),
        },
        {"code": "scope", "text": scope, "text_en": scope_en},
        {
            "code": "data_as_of",
            "text": f"本报告数据截至{day}（以平台收到数据提供单位报送的时间为准）。",
            "text_en": (
                f"Data as of {data_as_of.isoformat()} (the time the platform received it "
                "from the data providers)."
            ),
        },
        {
            "code": "purpose",
            "text": (
                f"本报告查询用途为“{purpose_name}”，仅限该用途使用，不得泄露、转售或用于其他目的。"
            ),
            "text_en": (
                f"This report was requested for '{purpose_name_en}' and may be used only for "
                "that purpose; it may not be disclosed, resold or used otherwise."
            ),
        },
    ]
