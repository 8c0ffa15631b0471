"""Report assembly: only public information, provenance on every item, issuance and usage logs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from rating_factories import rate
from report_factories import ID_NUMBER, NAME, OLD_AUTHORITY, REPAIRED_NO, TAX_PAID_MARK, Seeded
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.audit.models import AuditEntry
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.entities.errors import EntityNotFound, InvalidUscc
from rongxin.institutions import quota
from rongxin.institutions.errors import QuotaExceeded
from rongxin.institutions.models import Institution
from rongxin.rating.models import EntityRating, RatingRun
from rongxin.reports import service
from rongxin.reports.document import ReportDocument
from rongxin.reports.errors import PurposeNotAllowed, UnknownProvider
from rongxin.reports.models import ReportIssue, ReportIssueSource
from rongxin.reports.schemas import (
    SCHEMA_VERSION,
    CreditReport,
    ReportFormat,
    ReportItem,
    ReportPurpose,
    RequesterKind,
    Restriction,
    report_json_schema,
)

BANK = Principal(kind=PrincipalKind.institution, code="bank_fz_001")


def _document(session: Session, catalog: Catalog, uscc: str, **kw: object) -> ReportDocument:
    args: dict[str, object] = {
        "requester": BANK,
        "purpose": ReportPurpose.pre_loan,
        "node_id": "test-node",
        **kw,
    }
    return service.build_report(session, catalog=catalog, uscc=uscc, **args)  # type: ignore[arg-type]


def _build(session: Session, catalog: Catalog, uscc: str, **kw: object) -> CreditReport:
    return _document(session, catalog, uscc, **kw).model


def _items(report: CreditReport) -> dict[str, ReportItem]:
    return {i.item_code: i for s in report.sections for i in s.items}


def test_header_and_subject(session: Session, catalog: Catalog, seeded: Seeded) -> None:
    report = _build(session, catalog, seeded.uscc)
    assert report.schema_version == SCHEMA_VERSION == "1.3"
    assert len(report.report_id) == 32
    assert report.generated_at.tzinfo is not None
    assert report.node_id == "test-node"
    assert report.subject.uscc == seeded.uscc
    assert report.subject.name == NAME
    assert report.subject.registered_capital == 500.0
    assert report.subject.size_class == "small"
    assert report.requester.kind is RequesterKind.institution
    assert report.requester.code == "bank_fz_001"
    assert report.purpose.name == "贷前审查"
    assert report.summary.rating is None  # no rating run yet
    assert report.summary.rating_note.startswith("该主体尚无信用评价结果")
    assert report.summary.rating_note_en.startswith("No credit rating of this entity yet")


def test_sections_follow_domain_order(session: Session, catalog: Catalog, seeded: Seeded) -> None:
    report = _build(session, catalog, seeded.uscc)
    assert [s.code for s in report.sections] == [
        "basic",
        "public_records",
        "authorized",
        "self_reported",
    ]
    public = next(s for s in report.sections if s.code == "public_records")
    categories = [i.category.code for i in public.items]
    order = [c.code for c in catalog.categories]
    assert categories == sorted(categories, key=order.index)
    assert next(n.code for n in report.notices) == "objection"


def test_public_items_carry_provider_as_of_and_status(
    session: Session, catalog: Catalog, seeded: Seeded
) -> None:
    report = _build(session, catalog, seeded.uscc)
    items = _items(report)
    penalty = items["admin_penalty"]
    assert penalty.available
    assert penalty.total == 1
    assert penalty.provider.code == "ndrc"
    assert penalty.provider.name == "国家发展改革委"
    (record,) = penalty.records
    assert record.status == "published"
    assert record.status_name == "公示中"
    assert record.as_of.isoformat() == "2024-03-15"
    assert record.version == 2
    values = {f.name: f.value for f in record.fields}
    assert values["decision_no"] == seeded.penalty_no
    assert values["authority"] == "福州市鼓楼区市场监督管理局"
    assert penalty.as_of is not None
    assert penalty.as_of.isoformat() == "2024-03-15"
    # 欠税公告 is public although its category sits with authorized data: shown as a record
    public = next(s for s in report.sections if s.code == "public_records")
    assert items["tax_arrears"].available
    assert items["tax_arrears"] in public.items


def test_superseded_and_repaired_versions_do_not_appear(
    session: Session, catalog: Catalog, seeded: Seeded
) -> None:
    text = _build(session, catalog, seeded.uscc).model_dump_json()
    assert OLD_AUTHORITY not in text
    assert REPAIRED_NO not in text
    assert "别家" not in text  # another entity's record


def test_disputed_record_is_marked(session: Session, catalog: Catalog, seeded: Seeded) -> None:
    items = _items(_build(session, catalog, seeded.uscc))
    (record,) = items["dishonest_debtor"].records
    assert record.status == "disputed"
    assert record.status_name == "异议中"
    assert record.status_name_en == "Under objection"


def test_authorized_items_are_placeholders_only(
    session: Session, catalog: Catalog, seeded: Seeded
) -> None:
    report = _build(session, catalog, seeded.uscc)
    items = _items(report)
    tax = items["tax_payment"]
    assert not tax.available
    assert tax.restriction is Restriction.authorization_required
    assert tax.restriction_note == "需经企业授权后可见"
    assert tax.records == []
    assert tax.total is None
    authorized = next(s for s in report.sections if s.code == "authorized")
    assert all(not i.available for i in authorized.items)
    assert {"tax_payment", "social_insurance", "electricity"} <= {
        i.item_code for i in authorized.items
    }
    text = report.model_dump_json()
    assert TAX_PAID_MARK not in text
    assert "987654" not in text


def test_level_three_fields_never_appear(
    session: Session, catalog: Catalog, seeded: Seeded
) -> None:
    report = _build(session, catalog, seeded.uscc)
    text = report.model_dump_json()
    assert ID_NUMBER not in text
    assert "legal_rep_id_number" not in text
    (registration,) = _items(report)["registration"].records
    names = [f.name for f in registration.fields]
    assert "legal_rep_name" in names
    assert "uscc" not in names


def test_self_reported_section_is_labelled(
    session: Session, catalog: Catalog, seeded: Seeded
) -> None:
    report = _build(session, catalog, seeded.uscc)
    section = next(s for s in report.sections if s.code == "self_reported")
    assert section.title == "自主填报信息"
    assert section.note is not None
    assert "自主填报" in section.note
    assert all(i.self_reported for i in section.items)
    assert "本企业承诺所填信息真实" not in report.model_dump_json()  # on request only


def test_summary_counts_and_flags(session: Session, catalog: Catalog, seeded: Seeded) -> None:
    report = _build(session, catalog, seeded.uscc)
    counts = {c.code: c.record_count for c in report.summary.counts}
    assert counts["penalty"] == 1
    assert counts["dishonesty_list"] == 2
    assert counts["tax"] == 1  # 欠税公告
    assert report.summary.record_count == sum(counts.values()) == report.record_count
    flags = {f.code: f for f in report.summary.flags}
    assert flags["dishonest_debtor"].active
    assert flags["dishonest_debtor"].active_count == 1
    assert not flags["abnormal_operation"].active  # removed from the list
    assert flags["tax_arrears"].active
    assert not flags["serious_illegal"].active


def test_notices(session: Session, catalog: Catalog, seeded: Seeded) -> None:
    report = _build(session, catalog, seeded.uscc)
    notices = {n.code: n for n in report.notices}
    assert "20日" in notices["objection"].text
    assert "20 days" in notices["objection"].text_en
    assert "自主填报" in notices["self_reported"].text
    assert report.data_as_of.isoformat() == "2026-02-01"
    assert "2026年2月1日" in notices["data_as_of"].text
    assert "贷前审查" in notices["purpose"].text


def test_unknown_and_invalid_uscc(session: Session, catalog: Catalog, seeded: Seeded) -> None:
    from entity_factories import make_uscc

    with pytest.raises(EntityNotFound):
        _build(session, catalog, make_uscc(seed=1))
    with pytest.raises(InvalidUscc):
        _build(session, catalog, "91350100M000100Y40")


@pytest.mark.parametrize(
    ("kind", "purpose"),
    [
        (PrincipalKind.institution, ReportPurpose.self_query),
        (PrincipalKind.institution, ReportPurpose.supervision),
        (PrincipalKind.provider, ReportPurpose.pre_loan),
    ],
)
def test_purpose_limitation(
    session: Session,
    catalog: Catalog,
    seeded: Seeded,
    kind: PrincipalKind,
    purpose: ReportPurpose,
) -> None:
    with pytest.raises(PurposeNotAllowed):
        _build(
            session, catalog, seeded.uscc, requester=Principal(kind=kind, code="x"), purpose=purpose
        )


def test_anonymous_requester(session: Session, catalog: Catalog, seeded: Seeded) -> None:
    report = _build(
        session, catalog, seeded.uscc, requester=None, purpose=ReportPurpose.public_inquiry
    )
    assert report.requester.kind is RequesterKind.anonymous
    assert report.requester.code is None


def test_issue_logs_requester_purpose_and_sources(
    session: Session, settings: Settings, catalog: Catalog, seeded: Seeded
) -> None:
    report = service.issue_report(
        session,
        catalog=catalog,
        uscc=seeded.uscc,
        requester=BANK,
        purpose=ReportPurpose.in_loan,
        settings=settings,
        format=ReportFormat.pdf,
    )
    issue = session.get(ReportIssue, report.report_id)
    assert issue is not None
    assert (issue.uscc, issue.requester_kind, issue.requester_code) == (
        seeded.uscc,
        "institution",
        "bank_fz_001",
    )
    assert (issue.purpose, issue.format, issue.schema_version) == ("in_loan", "pdf", "1.3")
    assert issue.record_count == report.record_count == 5
    sources = {
        (s.provider_code, s.item_code): s.record_count
        for s in session.scalars(
            select(ReportIssueSource).where(ReportIssueSource.report_id == report.report_id)
        )
    }
    assert sources == {
        ("samr", "registration"): 1,
        ("ndrc", "admin_penalty"): 1,
        ("spc", "dishonest_debtor"): 1,
        ("samr", "abnormal_operation"): 1,
        ("sat", "tax_arrears"): 1,
    }  # tax_payment (authorized) and self_statement (on request) were not shown: not counted


def test_a_batch_of_issuances_is_logged_at_once_and_refused_past_the_quota(
    session: Session, settings: Settings, catalog: Catalog, seeded: Seeded
) -> None:
    """The API logs reports a batch at a time: one statement of each kind for all of them.
    A report past the institution's daily quota is refused (429) and nothing of it is logged;
    the others are logged in full, with their access-log entries."""
    session.execute(update(Institution).where(Institution.code == BANK.code).values(daily_quota=2))
    reports = [_document(session, catalog, seeded.uscc) for _ in range(3)]
    anonymous = _document(
        session, catalog, seeded.uscc, requester=None, purpose=ReportPurpose.public_inquiry
    )
    batch = [
        service.Issuance(report=r, requester=BANK, format=ReportFormat.json, settings=settings)
        for r in reports
    ]
    batch.insert(1, service.Issuance(
        report=anonymous, requester=None, format=ReportFormat.html, settings=settings
    ))  # fmt: skip
    outcome = service.record_issuances(session, batch)
    assert [type(o).__name__ for o in outcome] == ["NoneType"] * 3 + ["QuotaExceeded"]
    assert isinstance(outcome[3], QuotaExceeded)
    assert outcome[3].status == 429
    logged = {r.report_id for r in reports[:2]} | {anonymous.report_id}
    assert set(session.scalars(select(ReportIssue.id))) == logged
    assert set(session.scalars(select(ReportIssueSource.report_id).distinct())) == logged
    details = list(session.scalars(select(AuditEntry.detail).order_by(AuditEntry.seq)))
    assert details == [f"report {r.report_id}" for r in (reports[0], anonymous, reports[1])]
    assert quota.quota_usage(session, institution_code=BANK.code).used == 2


def test_provider_usage_matches_issuances(
    session: Session, settings: Settings, catalog: Catalog, seeded: Seeded
) -> None:
    operator = Principal(kind=PrincipalKind.operator, code="ops")
    for requester, purpose in (
        (BANK, ReportPurpose.pre_loan),
        (BANK, ReportPurpose.pre_loan),
        (BANK, ReportPurpose.post_loan),
        (operator, ReportPurpose.supervision),
    ):
        service.issue_report(
            session,
            catalog=catalog,
            uscc=seeded.uscc,
            requester=requester,
            purpose=purpose,
            settings=settings,
            format=ReportFormat.json,
        )
    service.issue_report(  # the other entity has only an ndrc record
        session,
        catalog=catalog,
        uscc=seeded.other_uscc,
        requester=BANK,
        purpose=ReportPurpose.pre_loan,
        settings=settings,
        format=ReportFormat.json,
    )
    samr = service.provider_usage(session, provider_code="samr", catalog=catalog)
    assert samr.provider_name == "市场监管总局"
    assert samr.report_count == 4
    assert samr.record_count == 8  # registration + abnormal_operation, four times
    assert {p.purpose.value: p.report_count for p in samr.by_purpose} == {
        "pre_loan": 2,
        "post_loan": 1,
        "supervision": 1,
    }
    items = {i.item_code: i for i in samr.items}
    assert items["registration"].report_count == 4
    assert items["registration"].name == "市场主体登记信息"
    assert items["serious_illegal_list"].report_count == 0  # listed, never used
    ndrc = service.provider_usage(session, provider_code="ndrc")
    assert ndrc.report_count == 5
    assert ndrc.record_count == 5
    later = service.provider_usage(
        session, provider_code="ndrc", since=datetime.now(UTC) + timedelta(hours=1)
    )
    assert later.report_count == 0
    assert later.items == []


def test_usage_of_unknown_provider(session: Session, catalog: Catalog) -> None:
    with pytest.raises(UnknownProvider):
        service.provider_usage(session, provider_code="nobody", catalog=catalog)


def test_json_schema_is_versioned() -> None:
    schema = report_json_schema()
    assert schema["title"] == "CreditReport 1.3"
    assert schema["$id"].endswith("/credit-report/1.3")
    assert {"report_id", "schema_version", "subject", "sections", "notices"} <= set(
        schema["properties"]
    )


# ---- the rating in the summary (E1) -------------------------------------------------------------


def test_summary_shows_the_latest_completed_rating(
    session: Session, catalog: Catalog, seeded: Seeded, settings: Settings
) -> None:
    rate(session, settings, as_of=date(2026, 6, 30))
    latest = rate(session, settings, as_of=date(2026, 9, 30))
    stored = session.get(EntityRating, (latest.id, seeded.uscc))
    assert stored is not None
    # a run still in progress is not a rating yet
    session.add(
        RatingRun(
            id="f" * 32,
            system_code=latest.system_code,
            system_version=latest.system_version,
            features_version=latest.features_version,
            engine="duckdb",
            as_of=date(2026, 12, 31),
            status="running",
            started_at=datetime.now(UTC) + timedelta(hours=1),
            triggered_by="test",
        )
    )
    session.flush()

    summary = _build(session, catalog, seeded.uscc).summary
    assert summary.rating is not None
    assert summary.rating.run_id == latest.id
    assert (summary.rating.grade, summary.rating.score) == (stored.grade, stored.score)
    assert summary.rating.as_of == date(2026, 9, 30)
    assert summary.rating.scale == 1000
    assert (summary.rating.system_code, summary.rating.system_version) == (
        latest.system_code,
        latest.system_version,
    )
    assert "评价基准日2026年9月30日" in summary.rating_note
    assert latest.system_code in summary.rating_note
    assert "as of 2026-09-30" in summary.rating_note_en


def test_rating_shown_only_to_whom_the_policy_shows_it(
    session: Session, catalog: Catalog, seeded: Seeded, settings: Settings
) -> None:
    rate(session, settings)
    own = Principal(kind=PrincipalKind.enterprise, code=seeded.uscc)
    mine = _build(session, catalog, seeded.uscc, requester=own, purpose=ReportPurpose.self_query)
    assert mine.summary.rating is not None
    # an enterprise looking another up publicly: the report, but not its rating
    other = Principal(kind=PrincipalKind.enterprise, code=seeded.other_uscc)
    theirs = _build(
        session, catalog, seeded.uscc, requester=other, purpose=ReportPurpose.public_inquiry
    )
    assert theirs.summary.rating is None
    assert theirs.summary.rating_note.startswith("本次查询不显示信用评价")
    assert theirs.summary.record_count > 0
    anonymous = _build(
        session, catalog, seeded.uscc, requester=None, purpose=ReportPurpose.public_inquiry
    )
    assert anonymous.summary.rating is not None
