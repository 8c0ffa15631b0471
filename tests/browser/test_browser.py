"""The pages in a real browser: they load cleanly, HTMX and ECharts work, phones do not scroll."""

from __future__ import annotations

import re

from browser_support import LiveServer, Tab, no_horizontal_scroll
from playwright.sync_api import expect


def test_home_page(tab: Tab) -> None:
    response = tab.open("/")
    assert response.status == 200
    expect(tab.page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(tab.page.locator("h1")).to_have_text("融资信用服务平台")
    expect(tab.page.get_by_role("link", name="机构登录")).to_be_visible()
    tab.screenshot("home")
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
