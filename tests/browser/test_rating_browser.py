"""The rating pages in a real browser: the portrait and the runs load without console errors,
their ECharts charts draw a canvas, and a 390 px wide phone does not scroll sideways."""

from __future__ import annotations

import re
from datetime import date

import pytest
from browser_support import LiveServer, Tab, no_horizontal_scroll
from institution_factories import institution_token
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind
from rongxin.catalog import service as catalog_service
from rongxin.config import Environment, Settings
from rongxin.rating import batch

RUN_DATES = (date(2026, 3, 31), date(2026, 9, 30))


@pytest.fixture(scope="module")
def rating_tokens(
    live_server: LiveServer, browser_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Two full-coverage rating runs in the live server's database, and API keys of an
    onboarded institution and of the seeded enterprise."""
    settings = Settings(
        environment=Environment.test,
        database_url=browser_db_url,
        data_dir=tmp_path_factory.mktemp("rating-browser"),
        node_id="browser-node",
    )
    catalog = catalog_service.load_catalog()
    engine = create_engine(browser_db_url)
    with Session(engine) as session:
        for as_of in RUN_DATES:
            batch.run_rating(
                session, catalog=catalog, as_of=as_of, triggered_by="browser", settings=settings
            )
        tokens = {
            "institution": institution_token(session, "bank_rating_browser"),
            "enterprise": access_service.create_api_key(
                session, kind=PrincipalKind.enterprise, code=live_server.uscc
            ).token,
            "operator": live_server.operator_token,
        }
        session.commit()
    engine.dispose()
    return tokens


def _sign_in(tab: Tab, token: str, path: str) -> None:
    tab.open(path)
    tab.page.wait_for_url(re.compile(r"/signin\?next="))
    tab.page.get_by_label("API 密钥").fill(token)
    tab.page.get_by_role("button", name="登录").click()
    tab.page.wait_for_url(re.compile(re.escape(path) + "$"))


def _chart_drawn(tab: Tab, selector: str, *, min_width: int) -> None:
    chart = tab.page.locator(selector)
    expect(chart.locator("canvas")).to_have_count(1)
    box = chart.locator("canvas").bounding_box()
    assert box is not None
    assert box["width"] > min_width
    assert box["height"] > 150


def test_portrait_page(tab: Tab, live_server: LiveServer, rating_tokens: dict[str, str]) -> None:
    path = f"/entities/{live_server.uscc}/rating"
    _sign_in(tab, rating_tokens["institution"], path)
    expect(tab.page.locator("h1")).to_have_text(live_server.name)
    expect(tab.page.locator(".rating-score__value")).to_have_text(re.compile(r"^\d[\d,.]*$"))
    expect(tab.page.locator(".grade-badge")).to_have_text(re.compile(r"^[A-Z]{1,4}[+-]?$"))
    expect(tab.page.get_by_label("查询用途")).to_have_value("pre_loan")
    _chart_drawn(tab, "#rating-history", min_width=300)
    expect(tab.page.locator(".rating-sheet").first.locator("tbody tr").first).to_be_visible()
    tab.screenshot("rating-portrait")
    # another purpose, then the English page
    tab.page.get_by_label("查询用途").select_option("post_loan")
    tab.page.get_by_role("button", name="按此用途查看").click()
    tab.page.wait_for_url(re.compile(r"purpose=post_loan$"))
    _chart_drawn(tab, "#rating-history", min_width=300)
    tab.page.get_by_role("link", name="English").click()
    tab.page.wait_for_url(re.compile(r"lang=en"))
    expect(tab.page.locator("#sheet-heading")).to_have_text("Indicator sheet")
    _chart_drawn(tab, "#rating-history", min_width=300)
    tab.screenshot("rating-portrait-en")
    tab.problems.assert_clean()


def test_the_enterprise_sees_its_own_portrait(
    tab: Tab, live_server: LiveServer, rating_tokens: dict[str, str]
) -> None:
    _sign_in(tab, rating_tokens["enterprise"], f"/entities/{live_server.uscc}/rating")
    expect(tab.page.locator(".rating-facts")).to_contain_text("本企业查询")
    _chart_drawn(tab, "#rating-history", min_width=300)
    tab.problems.assert_clean()


def test_runs_and_a_run(tab: Tab, rating_tokens: dict[str, str]) -> None:
    _sign_in(tab, rating_tokens["operator"], "/ratings/runs")
    expect(tab.page.locator("h1")).to_have_text("全覆盖信用评价批次")
    _chart_drawn(tab, "#rating-runs", min_width=300)
    rows = tab.page.locator(".rating-runs tbody tr")
    assert rows.count() >= len(RUN_DATES)
    expect(rows.first.locator(".grade-dist__bar rect").first).to_be_attached()
    tab.screenshot("rating-runs")
    rows.first.get_by_role("link").first.click()
    tab.page.wait_for_url(re.compile(r"/ratings/runs/[0-9a-f]{32}$"))
    expect(tab.page.locator("h1")).to_contain_text("信用评价批次")
    _chart_drawn(tab, "#rating-run-grades", min_width=200)
    expect(tab.page.locator(".rating-grades tbody tr").first).to_be_visible()
    tab.screenshot("rating-run")
    tab.problems.assert_clean()


@pytest.mark.parametrize("kind", ["institution", "operator"])
def test_phone_has_no_horizontal_scroll(
    phone: Tab,
    live_server: LiveServer,
    rating_tokens: dict[str, str],
    kind: str,
) -> None:
    portrait = f"/entities/{live_server.uscc}/rating"
    first = portrait if kind == "institution" else "/ratings/runs"
    _sign_in(phone, rating_tokens[kind], first)
    paths = [first] if kind == "institution" else [first, portrait]
    for path in paths:
        if path != first:
            phone.open(path)
        expect(phone.page.locator("[data-chart] canvas")).to_have_count(1)
        no_horizontal_scroll(phone.page)
        phone.screenshot(f"phone-rating-{kind}-{path.strip('/').replace('/', '-')}")
    if kind == "operator":
        phone.open("/ratings/runs")
        phone.page.locator(".rating-runs tbody tr").first.get_by_role("link").first.click()
        phone.page.wait_for_url(re.compile(r"/ratings/runs/[0-9a-f]{32}$"))
        expect(phone.page.locator("[data-chart] canvas")).to_have_count(1)
        no_horizontal_scroll(phone.page)
        phone.screenshot("phone-rating-run")
    phone.problems.assert_clean()
