"""The PDF: Chinese text is embedded as text (a CJK font, not boxes); no level-3 data in it."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from report_factories import ID_NUMBER, NAME, TAX_PAID_MARK, Seeded
from sqlalchemy.orm import Session

from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.catalog.schemas import Catalog
from rongxin.reports import rendering, service
from rongxin.reports.schemas import CreditReport, ReportFormat, ReportPurpose


@pytest.fixture
def report(session: Session, catalog: Catalog, seeded: Seeded) -> CreditReport:
    return service.build_report(
        session,
        catalog=catalog,
        uscc=seeded.uscc,
        requester=Principal(kind=PrincipalKind.institution, code="bank_fz_001"),
        purpose=ReportPurpose.pre_loan,
        node_id="test-node",
    ).model


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def test_pdf_contains_the_chinese_name(report: CreditReport) -> None:
    pdf = rendering.render_pdf(report, "zh-CN")
    assert pdf.startswith(b"%PDF-")
    text = _text(pdf)
    assert NAME in text
    assert "企业信用报告" in text
    assert "异议中" in text
    assert "需经企业授权后可见" in text
    assert ID_NUMBER not in text
    assert TAX_PAID_MARK not in text


def test_pdf_fonts_are_cjk(report: CreditReport) -> None:
    reader = PdfReader(io.BytesIO(rendering.render_pdf(report, "zh-CN")))
    fonts: set[str] = set()
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        for font in resources.get("/Font", {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("CJK" in f or "WenQuanYi" in f or "MicroHei" in f for f in fonts), fonts


def test_english_pdf(report: CreditReport) -> None:
    text = _text(rendering.render_pdf(report, "en"))
    assert "Enterprise credit report" in text
    assert NAME in text  # names stay Chinese


def test_filename(report: CreditReport) -> None:
    name = rendering.filename(report, ReportFormat.pdf)
    assert name.startswith(f"credit-report-{report.subject.uscc}-")
    assert name.endswith(".pdf")
    assert name.isascii()
