"""Locale catalogs, locale negotiation and the formatting filters."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from starlette.requests import Request

from rongxin.web import i18n


def _request(*, query: str = "", cookie: str | None = None, accept: str | None = None) -> Request:
    headers = []
    if cookie is not None:
        headers.append((b"cookie", f"{i18n.COOKIE_NAME}={cookie}".encode()))
    if accept is not None:
        headers.append((b"accept-language", accept.encode()))
    return Request({"type": "http", "query_string": query.encode(), "headers": headers})


def test_locale_files_have_identical_keys() -> None:
    zh, en = set(i18n.messages("zh-CN")), set(i18n.messages("en"))
    assert zh == en, f"only in zh-CN: {sorted(zh - en)}; only in en: {sorted(en - zh)}"
    assert "nav.catalog" in zh


def test_no_message_is_empty() -> None:
    for locale in i18n.LOCALES:
        empty = [k for k, v in i18n.messages(locale).items() if not v.strip()]
        assert not empty, f"{locale}: empty messages {empty}"


def test_placeholders_match_between_locales() -> None:
    import string

    def names(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    zh, en = i18n.messages("zh-CN"), i18n.messages("en")
    mismatched = [k for k in zh if names(zh[k]) != names(en[k])]
    assert not mismatched


def test_translate_with_params_and_fallback() -> None:
    assert i18n.translate("zh-CN", "nav.catalog") == "信用信息目录"
    assert i18n.translate("en", "nav.catalog") == "Information catalog"
    assert i18n.translate("en", "pagination.range", start=1, end=20, total=45) == "1–20 of 45"
    assert i18n.translate("en", "no.such.key") == "no.such.key"
    assert i18n.translate_value("en", "entity_status", "注销") == "Deregistered (注销)"
    assert i18n.translate_value("en", "entity_status", "未知") == "未知"


def test_unknown_locale_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown locale"):
        i18n.messages("fr")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", ["en"]),
        ("zh-CN,zh;q=0.9,en;q=0.8", ["zh-CN", "en"]),
        ("en;q=0.5, zh-Hans;q=0.9", ["zh-CN", "en"]),
        ("fr-FR, de;q=0.5", []),
        ("zh-TW;q=0, en", ["en"]),
        ("en;q=abc", []),
        ("", []),
    ],
)
def test_parse_accept_language(header: str, expected: list[str]) -> None:
    assert i18n.parse_accept_language(header) == expected


def test_negotiate_order_query_cookie_header_default() -> None:
    assert i18n.negotiate(_request(query="lang=en", cookie="zh-CN")) == i18n.LocaleChoice(
        "en", remember=True
    )
    assert i18n.negotiate(_request(cookie="en", accept="zh-CN")) == i18n.LocaleChoice(
        "en", remember=False
    )
    assert i18n.negotiate(_request(accept="en-GB,en;q=0.8")).locale == "en"
    assert i18n.negotiate(_request(query="lang=xx", accept="fr")).locale == "zh-CN"
    assert i18n.negotiate(_request(), default="en").locale == "en"


def test_yuan() -> None:
    assert i18n.yuan(1234.5) == "¥1,234.50 元"
    assert i18n.yuan(Decimal("1234567.005")) == "¥1,234,567.01 元"
    assert i18n.yuan(0) == "¥0.00 元"
    assert i18n.yuan(-88) == "-¥88.00 元"
    assert i18n.yuan(1234.5, "en") == "CNY 1,234.50"
    assert i18n.yuan(None) == "—"
    assert i18n.yuan("not a number") == "—"


def test_wanyuan() -> None:
    assert i18n.wanyuan(1234.56) == "1,234.56 万元"
    assert i18n.wanyuan(50) == "50.00 万元"
    assert i18n.wanyuan(Decimal("0.125")) == "0.13 万元"
    assert i18n.wanyuan(1234.56, "en") == "CNY 12,345,600"
    assert i18n.wanyuan(Decimal("0.000123"), "en") == "CNY 1.23"
    assert i18n.wanyuan(None, "en") == "—"


def test_cn_date() -> None:
    assert i18n.cn_date(date(2026, 11, 27)) == "2026年11月27日"
    assert i18n.cn_date(date(2026, 1, 5)) == "2026年1月5日"
    assert i18n.cn_date(datetime(2026, 11, 27, 8, 30)) == "2026年11月27日"
    assert i18n.cn_date("2026-11-27") == "2026年11月27日"
    assert i18n.cn_date(date(2026, 11, 27), "en") == "2026-11-27"
    assert i18n.cn_date(None) == "—"
    assert i18n.cn_date("someday") == "someday"


def test_filters_follow_the_template_locale() -> None:
    from rongxin.web.rendering import environment

    tpl = environment().from_string(
        "{{ t('nav.home') }}|{{ 1234.5 | yuan }}|{{ 12 | wanyuan }}|{{ d | cn_date }}"
    )
    d = date(2026, 11, 27)
    assert tpl.render(locale="zh-CN", d=d) == "首页|¥1,234.50 元|12.00 万元|2026年11月27日"
    assert tpl.render(locale="en", d=d) == "Home|CNY 1,234.50|CNY 120,000|2026-11-27"
