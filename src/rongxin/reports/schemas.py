"""The standardized credit report (V2), schema version 1.3, and usage feedback (V1).

1.1 added what each viewer sees: ``ReportItem.access`` and ``authorization_id``, and the
restrictions ``verification_only``, ``not_shared`` and ``provider_unavailable``. 1.2 added the
rights of the subject (G4): record status ``annotated`` with ``ReportRecord.objection``, and
``ReportSummary.broken_commitments``. 1.3 fills ``ReportSummary.rating`` (it was always null):
the platform's latest rating of the subject (E1), ``ReportRating``.

``CreditReport`` is the one shape every format is made from: the JSON API returns it as is,
the HTML and PDF renderings are drawn from it. Its JSON schema is published at
``GET /api/v1/reports/schema`` (``report_json_schema()``); any change that is not purely
additive bumps ``SCHEMA_VERSION``.

Every text a reader sees comes as a pair: ``name`` / ``name_en``, ``title`` / ``title_en``,
``label`` / ``label_en``, ``text`` / ``text_en`` (zh-CN first, English second).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from rongxin.access.schemas import PURPOSE_NAMES as PURPOSE_NAMES
from rongxin.access.schemas import Purpose
from rongxin.records.schemas import RecordStatus

SCHEMA_VERSION: Final = "1.3"
SCHEMA_ID: Final = f"https://rongxin.example/schemas/credit-report/{SCHEMA_VERSION}"
CHINA_TZ: Final = timezone(timedelta(hours=8), "CST")  # dates in the report are Beijing dates

FieldValue = str | int | float | bool | None


#: why a report is issued (purpose limitation, Z2); logged with every issuance
ReportPurpose = Purpose


class ReportFormat(StrEnum):
    json = "json"
    html = "html"
    pdf = "pdf"


class RequesterKind(StrEnum):
    """Who asked: a principal kind (``rongxin.access``) or an anonymous web visitor."""

    institution = "institution"
    operator = "operator"
    regulator = "regulator"
    provider = "provider"
    enterprise = "enterprise"
    anonymous = "anonymous"


class SectionCode(StrEnum):
    """The catalog's ``report_section`` values the report knows, in report order (DOMAIN §10)."""

    basic = "basic"
    public_records = "public_records"
    authorized = "authorized"
    self_reported = "self_reported"


class Restriction(StrEnum):
    """Why an item's records are not in this report."""

    authorization_required = "authorization_required"  # 需经企业授权
    on_request = "on_request"  # 依申请公开
    not_public = "not_public"  # 不公开
    verification_only = "verification_only"  # 仅供数据核验: values never leave the provider
    not_shared = "not_shared"  # 不予共享
    provider_unavailable = "provider_unavailable"  # 接口调用: the provider did not answer


class Access(StrEnum):
    """On what ground the viewer sees an item's records (schema 1.1)."""

    public = "public"  # publicly disclosable
    authorized = "authorized"  # under the enterprise's authorization (masked)
    subject = "subject"  # the information subject itself (unmasked)
    provider = "provider"  # the providing department's own data


# ---- the report ---------------------------------------------------------------------------------


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class Named(_View):
    code: str
    name: str
    name_en: str


class ReportSubject(_View):
    """The information subject (信息主体): registration facts from the entity registry."""

    uscc: str
    name: str
    entity_type: str
    entity_type_name: str
    entity_type_name_en: str
    region_code: str
    region_name: str | None
    industry_code: str
    industry_name: str | None
    industry_section: str
    industry_section_name: str | None
    size_class: str | None
    size_class_name: str | None
    status: str
    legal_rep_name: str
    registered_capital: float | None = Field(description="注册资本, 万元")
    establish_date: date


class Requester(_View):
    kind: RequesterKind
    code: str | None = Field(description="institution/operator code; null when anonymous")
    user_id: str | None = Field(None, description="the staff user's account id (1.1), if a person")


class CategoryCount(_View):
    code: str
    name: str
    name_en: str
    record_count: int


class ReportFlag(_View):
    """A key risk flag (e.g. 失信被执行人); ``active`` when a record is in force."""

    code: str
    name: str
    name_en: str
    item_code: str
    active: bool
    active_count: int


class ReportRating(_View):
    """The platform's latest credit rating of the subject (E1): computed by the batch run from
    publicly disclosable information only, with the indicator system it used."""

    grade: str = Field(description="AAA … C")
    score: float = Field(description="0 to `scale`")
    scale: int
    as_of: date = Field(description="the rating run's reference date")
    system_code: str
    system_version: str
    run_id: str


class ReportSummary(_View):
    counts: list[CategoryCount]
    flags: list[ReportFlag]
    record_count: int
    rating: ReportRating | None = Field(
        None, description="null when the subject has no rating yet or the viewer may not see it"
    )
    rating_note: str = Field(description="what the rating is, or why there is none")
    rating_note_en: str
    broken_commitments: int = Field(
        0, description="credit commitments (信用承诺) the operator recorded as broken (违诺)"
    )


class ReportField(_View):
    name: str
    label: str
    label_en: str
    type: str
    value: FieldValue
    unit: str | None


class ObjectionNote(_View):
    """An objection the providing department could not decide: the enterprise's objection and
    the check result are shown with the record (征信业管理条例 art. 25)."""

    objection_id: str
    reason: str
    check_result: str | None
    closed_at: datetime | None


class ReportRecord(_View):
    fields: list[ReportField]
    event_date: date | None
    received_at: datetime
    as_of: date = Field(description="event date, else the date the platform received it")
    status: RecordStatus
    status_name: str
    status_name_en: str
    record_key: str
    version: int
    objection: ObjectionNote | None = Field(
        None, description="status annotated: the objection and the provider's check result"
    )


class ReportItem(_View):
    """One catalog item: its records, or the reason they are not in this report."""

    item_code: str
    name: str
    name_en: str
    category: Named
    provider: Named
    self_reported: bool
    available: bool
    restriction: Restriction | None
    restriction_note: str | None
    restriction_note_en: str | None
    access: Access | None = Field(
        None, description="why the viewer sees the records (1.1); null when not available"
    )
    authorization_id: str | None = Field(
        None, description="the enterprise authorization the records are shown under (1.1)"
    )
    as_of: date | None = Field(description="the newest record's as-of date")
    records: list[ReportRecord]
    total: int | None = Field(description="number of records; null when not available")


class ReportSection(_View):
    code: str
    title: str
    title_en: str
    note: str | None
    note_en: str | None
    items: list[ReportItem]


class ReportNotice(_View):
    code: str
    text: str
    text_en: str


class PurposeInfo(_View):
    code: ReportPurpose
    name: str
    name_en: str


class CreditReport(_View):
    """企业信用报告 — the standardized enterprise credit report, publicly disclosable part."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"$id": SCHEMA_ID})

    report_id: str
    schema_version: str = SCHEMA_VERSION
    generated_at: datetime
    node_id: str
    data_as_of: date = Field(description="the newest received date of any record shown")
    subject: ReportSubject
    requester: Requester
    purpose: PurposeInfo
    summary: ReportSummary
    sections: list[ReportSection]
    notices: list[ReportNotice]

    @property
    def record_count(self) -> int:
        return self.summary.record_count

    @property
    def generated_at_display(self) -> str:
        """The issue time in Beijing time, for readers."""
        return self.generated_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S (UTC+8)")


def report_json_schema() -> dict[str, Any]:
    """The published JSON schema of ``CreditReport`` (draft 2020-12)."""
    schema = CreditReport.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"CreditReport {SCHEMA_VERSION}"
    return schema


# ---- usage feedback -----------------------------------------------------------------------------


class PurposeCount(_View):
    purpose: ReportPurpose
    name: str
    name_en: str
    report_count: int


class ItemUsage(_View):
    item_code: str
    name: str | None
    name_en: str | None
    report_count: int
    record_count: int
    by_purpose: list[PurposeCount]


class ProviderUsage(_View):
    """How often reports used a provider's data (使用情况反馈, V1)."""

    provider_code: str
    provider_name: str | None
    since: datetime | None
    report_count: int = Field(description="reports that used any of the provider's items")
    record_count: int
    by_purpose: list[PurposeCount]
    items: list[ItemUsage]
