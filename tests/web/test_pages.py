"""The web pages: every page renders, in Chinese by default and in English on request."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import entity_factories
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from rongxin.entities import uscc as uscc_rules
from rongxin.entities.models import MarketEntity
from rongxin.web import i18n


def make_uscc(body: str, *, region: str = "350102", prefix: str = "91") -> str:
    """A valid USCC around an 8-character organization-code body."""
    first16 = prefix + region + body
    first17 = first16 + uscc_rules.organization_check_character(body)
    return first17 + uscc_rules.check_character(first17)


def create_entity(session: Session, **overrides: Any) -> MarketEntity:
    """The shared entity factory with this module's entity (a Fuzhou tea company)."""
    values: dict[str, Any] = {
        "uscc": make_uscc("MA2Y3K4B"),
        "name": "福州闽江茶业有限公司",
        "region_code": "350102",
        "industry_code": "1530",
        "industry_section": "C",
        "legal_rep_name": "林晓明",
        "registered_capital": 1234.56,
        "establish_date": date(2015, 3, 8),
        "size_class": "small",
        "employees": 48,
        "revenue": 3560.0,
        "total_assets": 2100.5,
        "annual_report_year": 2025,
    }
    return entity_factories.create_entity(session, **{**values, **overrides})


@pytest.fixture
def zh(client: TestClient) -> TestClient:
    """The client with no language preference at all (so the default locale applies)."""
    client.cookies.clear()
    return client


def test_valid_test_uscc() -> None:
    assert uscc_rules.validate(make_uscc("MA2Y3K4B")).valid


# ---- shell ---------------------------------------------------------------------------------------


def test_home_page(zh: TestClient) -> None:
    r = zh.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="zh-CN">' in html
    assert "融信" in html
    assert "融资信用服务平台" in html
    assert "全国融资信用服务平台" in html  # node name
    for label in ("首页", "信用信息目录", "主体查询", "跳到主要内容"):
        assert label in html
    assert '<main id="main"' in html
    assert 'name="viewport"' in html
    assert '<label class="search-form__label" for="q">' in html
    # counts of catalog items and providers
    assert re.search(r'stat__value">42<', html)
    assert re.search(r'stat__value">22<', html)
    assert 'aria-current="page"' in html


def test_pages_use_only_self_hosted_assets(zh: TestClient) -> None:
    r = zh.get("/")
    html = r.text
    assert "/static/vendor/htmx.min.js" in html
    assert "/static/css/rongxin.css" in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert not re.search(r"<script>|<script [^>]*>[^<]+</script>", html), "no inline scripts"
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "default-src 'self'" in csp


def test_static_files_are_served(client: TestClient) -> None:
    htmx = client.get("/static/vendor/htmx.min.js")
    assert htmx.status_code == 200
    assert "htmx" in htmx.text[:200]
    css = client.get("/static/css/rongxin.css")
    assert css.status_code == 200
    assert "PingFang SC" in css.text
    assert client.get("/static/favicon.svg").status_code == 200


def test_lang_query_switches_to_english_and_sets_cookie(client: TestClient) -> None:
    client.cookies.clear()
    r = client.get("/?lang=en")
    assert r.status_code == 200
    assert '<html lang="en">' in r.text
    assert "Financing Credit Service Platform" in r.text
    assert "Information catalog" in r.text
    assert r.headers["content-language"] == "en"
    assert "rongxin_lang=en" in r.headers["set-cookie"]
    assert client.cookies.get(i18n.COOKIE_NAME) == "en"
    # remembered: the next page is English without ?lang=
    again = client.get("/catalog")
    assert '<html lang="en">' in again.text
    assert "set-cookie" not in again.headers
    # and switched back
    back = client.get("/catalog?lang=zh-CN")
    assert '<html lang="zh-CN">' in back.text
    assert client.cookies.get(i18n.COOKIE_NAME) == "zh-CN"


def test_accept_language_picks_english(zh: TestClient) -> None:
    r = zh.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in r.text
    assert "set-cookie" not in r.headers


def test_language_switch_links_keep_the_page(zh: TestClient) -> None:
    html = zh.get("/catalog/registration").text
    assert 'href="/catalog/registration?lang=en"' in html
    assert 'href="/catalog/registration?lang=zh-CN"' in html


# ---- catalog -------------------------------------------------------------------------------------


def test_catalog_page_groups_items_with_translated_labels(zh: TestClient) -> None:
    r = zh.get("/catalog")
    assert r.status_code == 200
    html = r.text
    assert "信用信息共享目录" in html
    assert "市场主体注册登记" in html  # a category
    assert "市场主体登记信息" in html  # an item
    assert "市场监管总局" in html  # its provider
    for label in ("物理归集", "接口调用", "数据核验", "无条件共享", "有条件共享", "公开"):
        assert label in html
    assert "依申请公开" in html
    assert "1级（公开）" in html
    assert "每日" in html
    assert 'href="/catalog/registration"' in html
    assert "sharing_mode." not in html  # no untranslated keys


def test_catalog_page_in_english(zh: TestClient) -> None:
    html = zh.get("/catalog?lang=en").text
    assert "Credit information sharing catalog" in html
    assert "Market entity registration" in html
    assert "State Administration for Market Regulation" in html
    assert "Physical aggregation" in html
    assert "Shared unconditionally" in html
    assert "物理归集" not in html


def test_catalog_item_page_lists_fields(zh: TestClient) -> None:
    r = zh.get("/catalog/registration")
    assert r.status_code == 200
    html = r.text
    assert "市场主体登记信息" in html
    assert "统一社会信用代码" in html  # a field label
    assert "<code>legal_rep_id_number</code>" in html
    assert "证件号脱敏" in html  # its mask
    assert "3级（敏感）" in html  # its raised level
    assert "万元" in html  # a unit
    assert "存续、在业、吊销、注销、迁出" in html  # allowed values


def test_unknown_catalog_item_is_a_404_page(zh: TestClient) -> None:
    r = zh.get("/catalog/no_such_item")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "未找到" in r.text
    assert "no_such_item" in r.text


# ---- entities ------------------------------------------------------------------------------------


def test_entity_search_page_without_query(zh: TestClient) -> None:
    r = zh.get("/entities")
    assert r.status_code == 200
    assert "市场主体查询" in r.text
    assert "请输入统一社会信用代码或名称关键词开始查询" in r.text


def test_entity_search_finds_by_name_and_uscc(zh: TestClient, session: Session) -> None:
    entity = create_entity(session)
    by_name = zh.get("/entities", params={"q": "闽江茶业"})
    assert by_name.status_code == 200
    assert "<html" in by_name.text
    assert "共找到 1 个主体" in by_name.text
    assert f'href="/entities/{entity.uscc}"' in by_name.text
    assert "福州闽江茶业有限公司" in by_name.text
    by_code = zh.get("/entities", params={"q": entity.uscc.lower()})
    assert "福州闽江茶业有限公司" in by_code.text


def test_entity_search_without_match(zh: TestClient) -> None:
    r = zh.get("/entities", params={"q": "<b>不存在的公司</b>"})
    assert r.status_code == 200
    assert "未找到与“&lt;b&gt;不存在的公司&lt;/b&gt;”相符的主体" in r.text  # escaped


def test_htmx_request_gets_only_the_results_partial(zh: TestClient, session: Session) -> None:
    create_entity(session)
    r = zh.get("/entities", params={"q": "闽江"}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "<html" not in r.text
    assert "<header" not in r.text
    assert "福州闽江茶业有限公司" in r.text
    assert "HX-Request" in r.headers["vary"]
    # a history restore asks for the whole page
    full = zh.get(
        "/entities",
        params={"q": "闽江"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in full.text


def test_entity_search_paginates(zh: TestClient, session: Session) -> None:
    bodies = ["MA2Y3K4B", "MA2Y3K4C", "MA2Y3K4D"]
    for n, body in enumerate(bodies):
        create_entity(session, uscc=make_uscc(body), name=f"福州分页测试{n}有限公司")
    first = zh.get("/entities", params={"q": "分页测试", "limit": 2})
    assert "第 1–2 条，共 3 条" in first.text
    next_link = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert next_link is not None
    assert next_link.group(1).endswith("limit=2&amp;offset=2")
    second = zh.get("/entities", params={"q": "分页测试", "limit": 2, "offset": 2})
    assert "第 3–3 条，共 3 条" in second.text
    assert 'rel="prev"' in second.text
    assert "福州分页测试2有限公司" in second.text


def test_invalid_query_parameters_render_a_422_page(zh: TestClient) -> None:
    r = zh.get("/entities", params={"q": "x", "limit": "lots"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "输入无效" in r.text
    assert "limit" in r.text


def test_entity_page(zh: TestClient, session: Session) -> None:
    entity = create_entity(session)
    r = zh.get(f"/entities/{entity.uscc}")
    assert r.status_code == 200
    html = r.text
    assert "福州闽江茶业有限公司" in html
    assert entity.uscc in html
    assert "基本登记信息" in html
    assert "林晓明" in html
    assert "1,234.56 万元" in html  # registered capital
    assert "2015年3月8日" in html
    assert "福建省福州市鼓楼区" in html  # region
    assert "小型" in html  # size class
    assert "48 人" in html
    assert "企业" in html  # entity type


def test_entity_page_in_english(zh: TestClient, session: Session) -> None:
    entity = create_entity(session)
    html = zh.get(f"/entities/{entity.uscc}?lang=en").text
    assert "Registration" in html
    assert "CNY 12,345,600" in html
    assert "2015-03-08" in html
    assert "Small" in html
    assert "Active (存续)" in html
    assert "Enterprise" in html  # entity type, from the reference data


def test_unknown_entity_is_a_404_page(zh: TestClient) -> None:
    code = make_uscc("MA2Y3K4Q")
    r = zh.get(f"/entities/{code}")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text
    assert "未找到" in r.text
    assert f"平台上没有统一社会信用代码为 {code} 的主体" in r.text
    assert "返回主体查询" in r.text  # the way back


def test_invalid_uscc_is_a_422_page_naming_the_check(zh: TestClient) -> None:
    code = make_uscc("MA2Y3K4B")
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    r = zh.get(f"/entities/{wrong}")
    assert r.status_code == 422
    assert "输入无效" in r.text
    assert "未通过的校验" in r.text
    assert "check_character" in r.text
    short = zh.get("/entities/12345")
    assert short.status_code == 422
    assert "<code>length</code>" in short.text
