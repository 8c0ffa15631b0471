"""Report routes: the auth matrix, formats, errors, usage feedback and the web page."""

from __future__ import annotations

import pytest
from entity_factories import make_uscc
from fastapi.testclient import TestClient
from rating_factories import rate
from report_factories import ID_NUMBER, NAME, TAX_PAID_MARK, Seeded, conforming_report
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rongxin.config import Settings
from rongxin.rating.models import EntityRating
from rongxin.reports.models import ReportIssue


def _url(uscc: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"purpose": "pre_loan", **params}.items())
    return f"/api/v1/reports/{uscc}?{query}"


def _issues(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ReportIssue)) or 0


def test_report_needs_an_api_key(client: TestClient, seeded: Seeded) -> None:
    response = client.get(_url(seeded.uscc))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_provider_key_is_forbidden(
    client: TestClient, seeded: Seeded, provider_headers: dict[str, str], session: Session
) -> None:
    response = client.get(_url(seeded.uscc), headers=provider_headers)
    assert response.status_code == 403
    assert _issues(session) == 0


def test_institution_gets_json_and_the_issue_is_logged(
    client: TestClient, seeded: Seeded, institution_headers: dict[str, str], session: Session
) -> None:
    response = client.get(_url(seeded.uscc), headers=institution_headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = conforming_report(response.text)
    assert body["schema_version"] == "1.3"
    assert body["subject"]["name"] == NAME
    assert body["requester"] == {"kind": "institution", "code": "bank_fz_001", "user_id": None}
    assert body["purpose"]["code"] == "pre_loan"
    assert [s["code"] for s in body["sections"]][:2] == ["basic", "public_records"]
    assert ID_NUMBER not in response.text
    assert TAX_PAID_MARK not in response.text
    issue = session.get(ReportIssue, body["report_id"])
    assert issue is not None
    assert (issue.requester_code, issue.purpose, issue.format) == (
        "bank_fz_001",
        "pre_loan",
        "json",
    )


def test_operator_may_request_supervision(
    client: TestClient, seeded: Seeded, operator_headers: dict[str, str]
) -> None:
    response = client.get(_url(seeded.uscc, purpose="supervision"), headers=operator_headers)
    assert response.status_code == 200


def test_institution_is_limited_to_financing_purposes(
    client: TestClient, seeded: Seeded, institution_headers: dict[str, str], session: Session
) -> None:
    response = client.get(_url(seeded.uscc, purpose="supervision"), headers=institution_headers)
    assert response.status_code == 403
    assert response.json()["error"] == "purpose_not_allowed"
    assert _issues(session) == 0


@pytest.mark.parametrize("query", ["", "?purpose=marketing", "?purpose=pre_loan&format=docx"])
def test_invalid_query_is_422(
    client: TestClient, seeded: Seeded, institution_headers: dict[str, str], query: str
) -> None:
    response = client.get(f"/api/v1/reports/{seeded.uscc}{query}", headers=institution_headers)
    assert response.status_code == 422


def test_unknown_entity_is_404_and_invalid_uscc_422(
    client: TestClient, institution_headers: dict[str, str]
) -> None:
    missing = client.get(_url(make_uscc(seed=31337)), headers=institution_headers)
    assert missing.status_code == 404
    assert missing.json()["error"] == "entity_not_found"
    invalid = client.get(_url("91350100M000100Y40"), headers=institution_headers)
    assert invalid.status_code == 422
    assert invalid.json()["error"] == "invalid_uscc"


@pytest.mark.parametrize(
    ("lang", "heading", "disputed"),
    [("zh-CN", "企业信用报告", "异议中"), ("en", "Enterprise credit report", "Under objection")],
)
def test_html_in_both_locales(
    client: TestClient,
    seeded: Seeded,
    institution_headers: dict[str, str],
    lang: str,
    heading: str,
    disputed: str,
) -> None:
    response = client.get(_url(seeded.uscc, format="html", lang=lang), headers=institution_headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-language"] == lang
    html = response.text
    assert f'<html lang="{lang}">' in html
    assert heading in html
    assert NAME in html
    assert disputed in html
    assert ID_NUMBER not in html
    assert TAX_PAID_MARK not in html


def test_html_shows_the_rating(
    client: TestClient,
    seeded: Seeded,
    institution_headers: dict[str, str],
    session: Session,
    settings: Settings,
) -> None:
    run = rate(session, settings)
    rated = session.get(EntityRating, (run.id, seeded.uscc))
    assert rated is not None
    html = client.get(_url(seeded.uscc, format="html"), headers=institution_headers).text
    assert f'<strong class="tag tag--level-2 report-grade">{rated.grade}</strong>' in html
    assert f"{rated.score} 分（满分 1000）" in html
    assert "2026年9月30日" in html
    body = client.get(_url(seeded.uscc), headers=institution_headers).json()
    assert body["summary"]["rating"]["grade"] == rated.grade
    assert body["summary"]["rating"]["as_of"] == "2026-09-30"


def test_pdf_has_content_disposition(
    client: TestClient, seeded: Seeded, institution_headers: dict[str, str], session: Session
) -> None:
    response = client.get(_url(seeded.uscc, format="pdf"), headers=institution_headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"credit-report-{seeded.uscc}-" in disposition
    assert response.content.startswith(b"%PDF-")
    formats = set(session.scalars(select(ReportIssue.format)))
    assert formats == {"pdf"}


def test_report_schema_is_published(client: TestClient) -> None:
    response = client.get("/api/v1/reports/schema")
    assert response.status_code == 200
    assert response.json()["title"] == "CreditReport 1.3"


# ---- usage feedback ------------------------------------------------------------------------------


def test_usage_auth_matrix(
    client: TestClient,
    seeded: Seeded,
    institution_headers: dict[str, str],
    provider_headers: dict[str, str],
    operator_headers: dict[str, str],
) -> None:
    assert client.get("/api/v1/reports/usage?provider=samr").status_code == 401
    assert (
        client.get("/api/v1/reports/usage?provider=samr", headers=institution_headers).status_code
        == 403
    )
    other = client.get("/api/v1/reports/usage?provider=spc", headers=provider_headers)
    assert other.status_code == 403
    own = client.get("/api/v1/reports/usage", headers=provider_headers)
    assert own.status_code == 200
    assert own.json()["provider_code"] == "samr"
    assert client.get("/api/v1/reports/usage", headers=operator_headers).status_code == 422
    unknown = client.get("/api/v1/reports/usage?provider=nobody", headers=operator_headers)
    assert unknown.status_code == 404
    any_provider = client.get("/api/v1/reports/usage?provider=spc", headers=operator_headers)
    assert any_provider.status_code == 200


def test_usage_counts_api_issuances(
    client: TestClient,
    seeded: Seeded,
    institution_headers: dict[str, str],
    provider_headers: dict[str, str],
) -> None:
    for purpose in ("pre_loan", "pre_loan", "post_loan"):
        assert client.get(
            _url(seeded.uscc, purpose=purpose), headers=institution_headers
        ).is_success
    body = client.get("/api/v1/reports/usage", headers=provider_headers).json()
    assert body["report_count"] == 3
    assert {p["purpose"]: p["report_count"] for p in body["by_purpose"]} == {
        "pre_loan": 2,
        "post_loan": 1,
    }
    items = {i["item_code"]: i for i in body["items"]}
    assert items["registration"]["report_count"] == 3
    assert items["abnormal_operation"]["record_count"] == 3


# ---- the web page (anonymous: public inquiry) ----------------------------------------------------


@pytest.mark.parametrize(("lang", "download"), [("zh-CN", "下载 PDF 版"), ("en", "Download PDF")])
def test_report_page_in_the_site_layout(
    client: TestClient, seeded: Seeded, session: Session, lang: str, download: str
) -> None:
    response = client.get(f"/entities/{seeded.uscc}/report?lang={lang}")
    assert response.status_code == 200
    html = response.text
    assert 'class="site-header"' in html
    assert NAME in html
    assert download in html
    assert f'href="/entities/{seeded.uscc}/report.pdf"' in html
    assert ID_NUMBER not in html
    issue = session.scalars(select(ReportIssue)).one()
    assert (issue.requester_kind, issue.requester_code, issue.purpose, issue.format) == (
        "anonymous",
        None,
        "public_inquiry",
        "html",
    )


def test_report_page_pdf_and_errors(client: TestClient, seeded: Seeded) -> None:
    pdf = client.get(f"/entities/{seeded.uscc}/report.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment;" in pdf.headers["content-disposition"]
    missing = client.get(f"/entities/{make_uscc(seed=31337)}/report")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
