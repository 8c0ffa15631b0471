"""The institution console (/console) and the report page issued per viewer
(/entities/{uscc}/report): public for anonymous visitors, a financing purpose for institutions
(authorized sections only under an active grant, masked), everything for the enterprise itself.
"""

from __future__ import annotations

import pytest
from console_helpers import (
    ACCOUNT,
    BANK,
    BANK_NAME,
    FIRM_NAME,
    MASKED,
    Login,
    grant,
    seed_firm,
)
from entity_factories import make_uscc
from fastapi.testclient import TestClient
from institution_factories import institution_token, onboard
from sqlalchemy.orm import Session

from rongxin.access.schemas import Purpose
from rongxin.audit import service as audit_service


@pytest.fixture
def firm(session: Session) -> str:
    return seed_firm(session)


def _electricity_row(html: str) -> str:
    """The part of the report page about the electricity item."""
    start = html.index("用电缴费")
    return html[start : start + 1500]


# ---- who may open the console -------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(secure_client: TestClient) -> None:
    response = secure_client.get("/console", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/console"


@pytest.mark.parametrize("kind", ["enterprise", "provider", "operator"])
def test_other_parties_get_a_forbidden_page(login: Login, kind: str) -> None:
    code = make_uscc(seed=7102) if kind == "enterprise" else "samr" if kind == "provider" else "ops"
    response = login(kind, code).get("/console")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "接入机构" in response.text  # names who may open it
    assert "Traceback" not in response.text


# ---- the console -------------------------------------------------------------------------------


def test_console_shows_quota_purposes_search_and_navigation(login: Login, firm: str) -> None:
    client = login("institution", BANK)
    page = client.get("/console")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert "<h1>机构工作台</h1>" in html
    assert BANK_NAME in html
    assert "今日查询额度" in html
    assert "<dd><strong>0</strong></dd>" in html  # nothing read today
    assert "<dd>1000</dd>" in html  # the onboarding's daily quota
    assert "贷前审查" in html  # an approved purpose
    assert 'href="/console" aria-current="page"' in html  # the navigation entry
    assert "暂无授权记录" in html

    found = client.get("/console", params={"q": "闽江电气"})
    assert found.status_code == 200
    assert FIRM_NAME in found.text
    assert f'href="/entities/{firm}/report?purpose=pre_loan"' in found.text
    assert f'href="/consent/requests?uscc={firm}"' in found.text
    assert "<html" in found.text  # a full page without HTMX

    fragment = client.get("/console", params={"q": firm}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert FIRM_NAME in fragment.text

    nothing = client.get("/console", params={"q": "不存在的企业名称"})
    assert "未找到" in nothing.text or "没有找到" in nothing.text


def test_console_lists_authorizations_by_status_and_recent_reads(
    login: Login, session: Session, firm: str
) -> None:
    client = login("institution", BANK)
    granted = grant(session, firm, ["electricity"])
    assert client.get(f"/entities/{firm}/report").status_code == 200  # one read

    page = client.get("/console").text
    assert granted.id in page
    assert f'href="/consent/authorizations/{granted.id}"' in page
    assert "<dd><strong>1</strong></dd>" in page  # the read counted against today's quota
    assert "在线查看信用报告" in page  # the read, from the access log
    assert firm in page

    row = '<th scope="row" data-label="授权编号"><a class="code" href="/consent/authorizations/'
    row += f'{granted.id}">'
    assert row in page
    active = client.get("/console", params={"status": "active"}).text
    assert row in active
    revoked = client.get("/console", params={"status": "revoked"}).text
    assert row not in revoked  # (the read under it is still in the recent reads)
    assert "暂无授权记录" in revoked

    bad = client.get("/console", params={"status": "approved"})
    assert bad.status_code == 422
    assert "status" in bad.text


def test_console_shows_only_its_own_institution(login: Login, session: Session, firm: str) -> None:
    institution_token(session, "bank_other")
    other = grant(session, firm, ["electricity"], institution="bank_other")
    page = login("institution", BANK).get("/console").text
    assert other.id not in page


# ---- the request form's prefill -----------------------------------------------------------------


def test_request_form_prefills_a_well_formed_uscc_only(login: Login, firm: str) -> None:
    client = login("institution", BANK)
    page = client.get("/consent/requests", params={"uscc": firm.lower()})
    assert page.status_code == 200
    assert f'name="uscc" value="{firm}"' in page.text
    junk = client.get("/consent/requests", params={"uscc": '"><script>x</script>'})
    assert junk.status_code == 200
    assert 'name="uscc" value=""' in junk.text
    assert "<script>x" not in junk.text


# ---- the report page per viewer -----------------------------------------------------------------


def test_anonymous_report_is_public(secure_client: TestClient, firm: str) -> None:
    page = secure_client.get(f"/entities/{firm}/report")
    assert page.status_code == 200
    html = page.text
    assert "公开信息版" in html
    assert "公众查询" in html
    assert 'name="purpose"' not in html  # no purpose to choose
    assert "report-access--public" in html
    assert "需经企业授权后可见" in _electricity_row(html)
    assert ACCOUNT not in html
    assert MASKED not in html


def test_institution_sees_authorized_items_masked_only_after_a_grant(
    login: Login, session: Session, firm: str
) -> None:
    client = login("institution", BANK)
    before = client.get(f"/entities/{firm}/report")
    assert before.status_code == 200
    assert before.headers["cache-control"] == "no-store"
    assert '<option value="pre_loan" selected>' in before.text
    assert "接入机构" in before.text
    assert "report-access--authorized" not in before.text
    assert f'href="/consent/requests?uscc={firm}"' in before.text

    granted = grant(session, firm, ["electricity"])
    after = client.get(f"/entities/{firm}/report").text
    assert "授权查询版" in after
    assert "report-access--authorized" in after
    assert granted.id in after
    assert "个人信息已脱敏" in after
    assert MASKED in after
    assert ACCOUNT not in after

    # a pre-loan authorization does not cover post-loan reads
    post = client.get(f"/entities/{firm}/report", params={"purpose": "post_loan"}).text
    assert '<option value="post_loan" selected>' in post
    assert MASKED not in post
    assert "需经企业授权后可见" in _electricity_row(post)

    # the PDF is issued the same way (the purpose rides along)
    assert f'/entities/{firm}/report.pdf?purpose=pre_loan"' in after


def test_interface_and_verification_items_say_why_they_are_missing(
    login: Login, session: Session, firm: str
) -> None:
    grant(session, firm, ["electricity", "tax_payment", "real_estate"])
    html = login("institution", BANK).get(f"/entities/{firm}/report").text
    assert "report-restriction--provider_unavailable" in html  # no provider endpoint in tests
    assert "暂不可用" in html
    assert "report-restriction--verification_only" in html
    assert "仅供数据核验" in html


def test_the_enterprise_sees_its_own_report_unmasked(login: Login, firm: str) -> None:
    page = login("enterprise", firm).get(f"/entities/{firm}/report")
    assert page.status_code == 200
    html = page.text
    assert "本企业查询版" in html
    assert "report-access--subject" in html
    assert ACCOUNT in html
    assert "未脱敏" in html
    assert 'name="purpose"' not in html


def test_another_enterprise_and_a_provider_get_the_public_report(
    login: Login, session: Session, firm: str
) -> None:
    other = make_uscc(seed=7103)
    for kind, code in (("enterprise", other), ("provider", "power_grid")):
        html = login(kind, code).get(f"/entities/{firm}/report").text
        assert "公开信息版" in html
        assert ACCOUNT not in html
        assert MASKED not in html


def test_operator_and_regulator_read_for_supervision(login: Login, firm: str) -> None:
    html = login("operator", "ops").get(f"/entities/{firm}/report").text
    assert '<option value="supervision" selected>' in html
    assert "平台运营方" in html
    regulator = login("regulator", "pbc").get(f"/entities/{firm}/report")
    assert regulator.status_code == 200
    assert "监管部门" in regulator.text


@pytest.mark.parametrize(
    ("kind", "purpose"),
    [("institution", "self_query"), ("institution", "supervision"), ("anonymous", "pre_loan")],
)
def test_a_purpose_not_offered_is_a_logged_403_page(
    login: Login, secure_client: TestClient, session: Session, firm: str, kind: str, purpose: str
) -> None:
    client = login("institution", BANK) if kind == "institution" else secure_client
    response = client.get(f"/entities/{firm}/report", params={"purpose": purpose})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "查询用途" in response.text
    assert purpose in response.text
    assert "Traceback" not in response.text
    actor = BANK if kind == "institution" else "anonymous"
    denied = audit_service.entries(session, uscc=firm, actor_code=actor).items
    assert [(e.outcome, e.purpose) for e in denied] == [("denied", purpose)]


def test_an_unknown_purpose_names_the_field(login: Login, firm: str) -> None:
    response = login("institution", BANK).get(
        f"/entities/{firm}/report", params={"purpose": "marketing"}
    )
    assert response.status_code == 422
    assert "purpose" in response.text


def test_an_institution_not_approved_for_a_purpose_is_refused(
    login: Login, session: Session, firm: str
) -> None:
    onboard(session, "bank_narrow", purposes=[Purpose.post_loan])
    client = login("institution", "bank_narrow")
    page = client.get(f"/entities/{firm}/report")
    assert page.status_code == 200
    assert '<option value="post_loan" selected>' in page.text  # its only purpose
    assert '<option value="pre_loan"' not in page.text
    refused = client.get(f"/entities/{firm}/report", params={"purpose": "pre_loan"})
    assert refused.status_code == 403


def test_the_pdf_is_issued_per_viewer(login: Login, session: Session, firm: str) -> None:
    client = login("institution", BANK)
    response = client.get(f"/entities/{firm}/report.pdf", params={"purpose": "in_loan"})
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    reads = audit_service.entries(session, uscc=firm, actor_code=BANK).items
    assert [(e.action, e.purpose) for e in reads] == [("report.pdf", "in_loan")]
