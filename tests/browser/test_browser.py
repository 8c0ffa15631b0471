"""The pages in a real browser: they load cleanly, HTMX and ECharts work, phones do not scroll."""

from __future__ import annotations

import re

import pytest
from browser_support import LiveServer, Tab, no_horizontal_scroll
from institution_factories import institution_token
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind


def test_home_page(tab: Tab) -> None:
    response = tab.open("/")
    assert response.status == 200
    expect(tab.page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(tab.page.locator("h1")).to_have_text("融资信用服务平台")
    expect(tab.page.get_by_role("link", name="机构登录")).to_be_visible()
    tab.screenshot("home")
    tab.problems.assert_clean()


def test_api_docs_render_from_the_node_alone(tab: Tab) -> None:
    """Swagger UI from the node's own copy: it renders the API's operations, and the page asks
    nothing of any other host."""
    hosts: set[str] = set()
    tab.page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    tab.open("/api/v1/docs")
    expect(tab.page.locator(".swagger-ui .title").first).to_contain_text("rongxin")
    expect(tab.page.locator(".opblock").first).to_be_visible()
    assert hosts == {tab.base_url.split("/")[2]}
    tab.problems.assert_clean()


def test_catalog_and_an_item(tab: Tab) -> None:
    tab.open("/catalog")
    expect(tab.page.locator("h1")).to_have_text("信用信息共享目录")
    tab.page.get_by_role("link", name="裁判文书").first.click()
    tab.page.wait_for_url(re.compile(r"/catalog/court_judgment$"))
    expect(tab.page.locator("h1")).to_contain_text("裁判文书")
    tab.screenshot("catalog-item")
    tab.problems.assert_clean()


def test_entity_search_swaps_results_in_place(tab: Tab, live_server: LiveServer) -> None:
    tab.open("/entities")
    tab.page.evaluate("window.__notReloaded = true")
    partial = live_server.name[2:5]  # a few characters from the middle of a Chinese name
    tab.page.get_by_label("统一社会信用代码或企业名称").fill(partial)
    tab.page.get_by_role("button", name="查询").click()
    result = tab.page.locator("#results").get_by_role("link", name=live_server.name)
    expect(result).to_be_visible()
    expect(tab.page.locator("#results .results__count")).to_contain_text("共找到")
    assert tab.page.evaluate("window.__notReloaded") is True, "HTMX should swap, not reload"
    assert "q=" in tab.page.url  # hx-push-url keeps the search in the address bar
    tab.screenshot("entity-search")
    result.click()
    tab.page.wait_for_url(re.compile(rf"/entities/{live_server.uscc}$"))
    expect(tab.page.locator("h1")).to_have_text(live_server.name)
    tab.problems.assert_clean()


def test_entity_page(tab: Tab, live_server: LiveServer) -> None:
    tab.open(f"/entities/{live_server.uscc}")
    expect(tab.page.locator("h1")).to_have_text(live_server.name)
    expect(tab.page.locator("code.uscc").first).to_have_text(live_server.uscc)
    tab.screenshot("entity")
    tab.problems.assert_clean()


def test_report_page(tab: Tab, live_server: LiveServer) -> None:
    response = tab.open(f"/entities/{live_server.uscc}/report")
    assert response.status == 200
    expect(tab.page.locator("body")).to_contain_text(live_server.name)
    expect(tab.page.locator("body")).to_contain_text(live_server.uscc)
    tab.screenshot("report")
    tab.problems.assert_clean()


def test_language_switch(tab: Tab) -> None:
    tab.open("/catalog")
    tab.page.get_by_role("link", name="English").click()
    tab.page.wait_for_url(re.compile(r"lang=en"))
    expect(tab.page.locator("html")).to_have_attribute("lang", "en")
    expect(tab.page.locator("h1")).to_have_text(re.compile("catalog", re.I))
    tab.page.get_by_role("link", name="Home", exact=True).click()  # the cookie remembers
    expect(tab.page.locator("html")).to_have_attribute("lang", "en")
    tab.page.get_by_role("link", name="中文").click()
    expect(tab.page.locator("html")).to_have_attribute("lang", "zh-CN")
    tab.problems.assert_clean()


def test_signin_quality_charts_and_signout(tab: Tab, live_server: LiveServer) -> None:
    tab.open("/quality")
    tab.page.wait_for_url(re.compile(r"/signin\?next=/quality$"))
    expect(tab.page.locator("h1")).to_have_text("机构工作人员登录")
    tab.page.get_by_label("API 密钥").fill(live_server.operator_token)
    tab.page.get_by_role("button", name="登录").click()
    tab.page.wait_for_url(re.compile(r"/quality$"))
    expect(tab.page.locator("h1")).to_have_text("数据质量监测")
    expect(tab.page.locator(".account__who")).to_contain_text("平台运营方")
    expect(tab.page.get_by_role("link", name="数据质量")).to_have_attribute("aria-current", "page")
    # ECharts drew a canvas into every chart container
    charts = tab.page.locator("[data-chart]")
    assert charts.count() >= 1
    for index in range(charts.count()):
        expect(charts.nth(index).locator("canvas")).to_have_count(1)
    box = charts.first.locator("canvas").bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 200
    tab.screenshot("quality")
    # another provider's trends, then its delivery history
    tab.page.get_by_label("数据提供单位").select_option("spc")
    tab.page.get_by_role("button", name="查看").click()
    tab.page.wait_for_url(re.compile(r"provider=spc"))
    expect(tab.page.locator("#trend-court_judgment canvas")).to_have_count(1)
    trend_rows = tab.page.locator("#trend-court_judgment ~ .table-wrap tbody tr")
    expect(trend_rows).to_have_count(3)  # committed, rejected, committed with gaps
    tab.page.locator("#trend-court_judgment").scroll_into_view_if_needed()
    tab.screenshot("quality-spc")
    tab.page.locator(".is-selected").get_by_role("link").nth(1).click()
    tab.page.wait_for_url(re.compile(r"/providers/spc/batches$"))
    expect(tab.page.locator(".tag--batch-committed").first).to_have_text("已入库")
    expect(tab.page.locator(".tag--batch-rejected")).to_have_text("已拒收")
    tab.page.locator(".tag--batch-rejected").locator("xpath=ancestor::tr").get_by_role(
        "link"
    ).click()
    expect(tab.page.locator(".problem-table")).to_contain_text("uscc")
    expect(tab.page.locator(".problem-table")).to_contain_text("91XXBAD")
    tab.screenshot("batch-rejected")
    tab.page.go_back()
    tab.screenshot("deliveries")
    tab.page.get_by_role("button", name="退出登录").click()
    tab.page.wait_for_url(re.compile(r"/$"))
    expect(tab.page.get_by_role("link", name="机构登录")).to_be_visible()
    tab.problems.assert_clean()


def test_signin_with_a_wrong_key_shows_the_error(tab: Tab) -> None:
    tab.open("/signin")
    tab.page.get_by_label("API 密钥").fill("rx_0000000000000000_wrong")
    with tab.page.expect_response(re.compile(r"/signin$")) as answer:
        tab.page.get_by_role("button", name="登录").click()
    assert answer.value.status == 400
    expect(tab.page.get_by_role("alert")).to_contain_text("密钥无效")
    tab.problems.forgive("/signin: 400")  # the expected answer, in the request log …
    tab.problems.forgive(f"status of 400 (Bad Request) @ {tab.base_url}/signin")  # … console
    tab.problems.assert_clean()


def test_phone_has_no_horizontal_scroll(phone: Tab, live_server: LiveServer) -> None:
    for name, path in (
        ("phone-home", "/"),
        ("phone-entity", f"/entities/{live_server.uscc}"),
        ("phone-catalog", "/catalog"),
    ):
        phone.open(path)
        no_horizontal_scroll(phone.page)
        phone.screenshot(name)
    phone.problems.assert_clean()


# ---- the institution console, the enterprise's history, provider usage (issue 4) ---------------


@pytest.fixture(scope="module")
def party_tokens(live_server: LiveServer, browser_db_url: str) -> dict[str, str]:
    """API keys of an onboarded institution, of the seeded enterprise and of a provider, made in
    the live server's database (the server re-reads keys on every request)."""
    engine = create_engine(browser_db_url)
    with Session(engine) as session:
        tokens = {
            "institution": institution_token(session, "bank_browser"),
            "enterprise": access_service.create_api_key(
                session, kind=PrincipalKind.enterprise, code=live_server.uscc
            ).token,
            "provider": access_service.create_api_key(
                session, kind=PrincipalKind.provider, code="samr"
            ).token,
        }
        session.commit()
    engine.dispose()
    return tokens


def _sign_in(tab: Tab, token: str, path: str) -> None:
    tab.open(path)
    tab.page.get_by_label("API 密钥").fill(token)
    tab.page.get_by_role("button", name="登录").click()
    tab.page.wait_for_url(re.compile(re.escape(path) + "$"))


def test_institution_console_search_and_report(
    tab: Tab, live_server: LiveServer, party_tokens: dict[str, str]
) -> None:
    _sign_in(tab, party_tokens["institution"], "/console")
    expect(tab.page.locator("h1")).to_have_text("机构工作台")
    expect(tab.page.get_by_role("link", name="机构工作台")).to_have_attribute(
        "aria-current", "page"
    )
    tab.page.evaluate("window.__notReloaded = true")
    tab.page.get_by_label("统一社会信用代码或企业名称").fill(live_server.uscc)
    tab.page.get_by_role("button", name="查询").click()
    results = tab.page.locator("#console-results")
    expect(results.get_by_role("link", name=live_server.name, exact=True)).to_be_visible()
    assert tab.page.evaluate("window.__notReloaded") is True, "HTMX should swap, not reload"
    tab.screenshot("console")
    results.get_by_role("link", name=re.compile("^查看报告")).click()
    tab.page.wait_for_url(re.compile(rf"/entities/{live_server.uscc}/report\?purpose=pre_loan$"))
    expect(tab.page.get_by_label("查询用途")).to_have_value("pre_loan")
    expect(tab.page.locator(".report-access--public").first).to_be_visible()
    tab.screenshot("report-institution")
    tab.page.get_by_label("查询用途").select_option("post_loan")
    tab.page.get_by_role("button", name="按此用途出具").click()
    tab.page.wait_for_url(re.compile(r"purpose=post_loan$"))
    expect(tab.page.locator(".credit-report")).to_contain_text("贷后管理")
    tab.page.get_by_role("link", name="申请授权").click()
    tab.page.wait_for_url(re.compile(rf"/consent/requests\?uscc={live_server.uscc}$"))
    expect(tab.page.get_by_label("企业统一社会信用代码")).to_have_value(live_server.uscc)
    tab.open("/console")
    expect(tab.page.locator(".console-reads")).to_contain_text(live_server.uscc)
    tab.problems.assert_clean()


def test_enterprise_access_history(
    tab: Tab, live_server: LiveServer, party_tokens: dict[str, str]
) -> None:
    _sign_in(tab, party_tokens["enterprise"], "/history")
    expect(tab.page.locator("h1")).to_have_text("谁查看了本企业的信息")
    expect(tab.page.get_by_role("link", name="查询记录")).to_have_attribute("aria-current", "page")
    expect(tab.page.get_by_role("link", name="前往授权中心")).to_be_visible()
    tab.screenshot("history")
    tab.open(f"/entities/{live_server.uscc}/report")
    expect(tab.page.locator(".report-access--subject").first).to_be_visible()
    tab.problems.assert_clean()


def test_provider_usage(tab: Tab, party_tokens: dict[str, str]) -> None:
    _sign_in(tab, party_tokens["provider"], "/providers/samr/usage")
    expect(tab.page.locator("h1")).to_contain_text("数据使用情况")
    expect(tab.page.locator(".usage-table")).to_contain_text("市场主体登记信息")
    tab.screenshot("provider-usage")
    tab.problems.assert_clean()


@pytest.mark.parametrize(
    ("kind", "paths"),
    [
        ("institution", ("/console", "/report")),
        ("enterprise", ("/history", "/report")),
        ("provider", ("/providers/samr/usage",)),
    ],
)
def test_phone_new_pages_have_no_horizontal_scroll(
    phone: Tab,
    live_server: LiveServer,
    party_tokens: dict[str, str],
    kind: str,
    paths: tuple[str, ...],
) -> None:
    _sign_in(phone, party_tokens[kind], paths[0])
    for path in paths:
        target = f"/entities/{live_server.uscc}/report" if path == "/report" else path
        if target != paths[0]:
            phone.open(target)
        no_horizontal_scroll(phone.page)
        phone.screenshot(f"phone-{kind}-{target.strip('/').replace('/', '-')}")
    phone.problems.assert_clean()
