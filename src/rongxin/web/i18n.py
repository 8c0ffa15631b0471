"""Locales for the pages: zh-CN first, English available.

Messages live in data files (``web/locales/<locale>.yaml``, nested keys flattened to dotted
names such as ``nav.catalog``); both files carry the same keys (a test checks). The locale of
a request is, in order: ``?lang=`` (then remembered in the ``rongxin_lang`` cookie), the
cookie, the browser's ``Accept-Language``, ``Settings.default_locale``.

Formatting helpers (``yuan``, ``wanyuan``, ``cn_date``) are plain functions of a value and a
locale so that they can be tested without a request; :func:`install` registers them on a Jinja
environment as ``t()``, ``loc()`` and filters that read the locale from the template context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any, Final

import yaml
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from starlette.requests import Request

from rongxin.web import WEB_DIR

LOCALES: Final = ("zh-CN", "en")
DEFAULT_LOCALE: Final = "zh-CN"
COOKIE_NAME: Final = "rongxin_lang"
COOKIE_MAX_AGE: Final = 365 * 24 * 3600
LOCALES_DIR = WEB_DIR / "locales"
EMPTY: Final = "—"
CHINA_TIME: Final = timezone(timedelta(hours=8), "CST")  # China Standard Time, no DST

Number = int | float | Decimal | str


# ---- message catalogs ---------------------------------------------------------------------------


def _flatten(prefix: str, node: Mapping[str, Any], out: dict[str, str]) -> None:
    for key, value in node.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            _flatten(name, value, out)
        else:
            out[name] = str(value)


@cache
def messages(locale: str) -> dict[str, str]:
    """The flattened message catalog of one locale (``{"nav.home": "首页", …}``)."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}; known: {', '.join(LOCALES)}")
    path = LOCALES_DIR / f"{locale}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: a message catalog must be a mapping at the top")
    out: dict[str, str] = {}
    _flatten("", data, out)
    return out


def translate(locale: str, key: str, **params: Any) -> str:
    """The message ``key`` in ``locale`` (falling back to zh-CN, then to the key itself)."""
    text = messages(locale).get(key)
    if text is None:
        text = messages(DEFAULT_LOCALE).get(key, key)
    return text.format(**params) if params else text


def translate_value(locale: str, group: str, value: object) -> str:
    """The display name of a stored value (``entity_status.存续``), else the value itself."""
    text = messages(locale).get(f"{group}.{value}")
    return text if text is not None else str(value)


# ---- choosing the locale ------------------------------------------------------------------------


def match_locale(tag: str | None) -> str | None:
    """Map a language tag (``zh``, ``zh-Hans-CN``, ``en-GB``, ``EN``) to a supported locale."""
    if not tag:
        return None
    primary = tag.strip().lower().replace("_", "-").split("-")[0]
    if primary == "zh":
        return "zh-CN"
    if primary == "en":
        return "en"
    return None


def parse_accept_language(header: str | None) -> list[str]:
    """Supported locales in the order of the header's q-values (highest first)."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        locale = match_locale(tag)
        if locale is not None and quality > 0:
            ranked.append((-quality, index, locale))
    return list(dict.fromkeys(locale for _, _, locale in sorted(ranked)))


@dataclass(frozen=True, slots=True)
class LocaleChoice:
    locale: str
    remember: bool  # chosen by ?lang=: the response sets the cookie


def negotiate(request: Request, *, default: str = DEFAULT_LOCALE) -> LocaleChoice:
    """The request's locale: ``?lang=``, then the cookie, then Accept-Language, then default."""
    asked = match_locale(request.query_params.get("lang"))
    if asked is not None:
        return LocaleChoice(asked, remember=True)
    remembered = match_locale(request.cookies.get(COOKIE_NAME))
    if remembered is not None:
        return LocaleChoice(remembered, remember=False)
    accepted = parse_accept_language(request.headers.get("accept-language"))
    if accepted:
        return LocaleChoice(accepted[0], remember=False)
    return LocaleChoice(match_locale(default) or DEFAULT_LOCALE, remember=False)


# ---- formatting ---------------------------------------------------------------------------------


def _decimal(amount: Number) -> Decimal | None:
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _grouped(value: Decimal, places: int = 2) -> str:
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"


def yuan(amount: Number | None, locale: str = DEFAULT_LOCALE) -> str:
    """An amount in 元: ``¥1,234.50 元`` (zh-CN), ``CNY 1,234.50`` (en); ``—`` when empty."""
    value = None if amount is None or amount == "" else _decimal(amount)
    if value is None:
        return EMPTY
    sign, text = ("-" if value < 0 else ""), _grouped(abs(value))
    if locale == "en":
        return f"{sign}CNY {text}"
    return f"{sign}¥{text} 元"


def wanyuan(amount: Number | None, locale: str = DEFAULT_LOCALE) -> str:
    """An amount in 万元 (10,000 yuan): ``1,234.56 万元`` (zh-CN), ``CNY 12,345,600`` (en)."""
    value = None if amount is None or amount == "" else _decimal(amount)
    if value is None:
        return EMPTY
    if locale == "en":
        sign, whole = ("-" if value < 0 else ""), abs(value) * 10000
        places = 0 if whole == whole.to_integral_value() else 2
        return f"{sign}CNY {_grouped(whole, places)}"
    return f"{_grouped(value)} 万元"


def cn_date(value: date | str | None, locale: str = DEFAULT_LOCALE) -> str:
    """``2026年11月27日`` (zh-CN) or ``2026-11-27`` (en); ``—`` when empty."""
    if value is None or value == "":
        return EMPTY
    day: date
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return value
    elif isinstance(value, datetime):
        day = value.date()
    else:
        day = value
    if locale == "en":
        return day.isoformat()
    return f"{day.year}年{day.month}月{day.day}日"


def cn_datetime(value: datetime | None, locale: str = DEFAULT_LOCALE) -> str:
    """A moment in China Standard Time: ``2026年11月27日 14:03`` (zh-CN), ``2026-11-27 14:03``."""
    if value is None:
        return EMPTY
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(CHINA_TIME)
    return f"{cn_date(local.date(), locale)} {local:%H:%M}"


def localized(obj: Any, attr: str = "name", locale: str = DEFAULT_LOCALE) -> str:
    """``obj.<attr>_en`` in English when it is set, else ``obj.<attr>`` (catalog names, labels)."""
    if locale == "en":
        english = getattr(obj, f"{attr}_en", None)
        if english:
            return str(english)
    return str(getattr(obj, attr, ""))


# ---- Jinja --------------------------------------------------------------------------------------


def _locale_of(ctx: Context) -> str:
    locale = ctx.get("locale")
    return locale if isinstance(locale, str) and locale in LOCALES else DEFAULT_LOCALE


def install(env: Environment) -> None:
    """Register ``t()``, ``tv()``, ``loc()`` and the formatting filters.

    The filters: ``yuan``, ``wanyuan``, ``cn_date`` and ``cn_datetime``.

    They read ``locale`` from the template context, which the page renderer always sets.
    """

    @pass_context
    def t(ctx: Context, key: str, **params: Any) -> str:
        return translate(_locale_of(ctx), key, **params)

    @pass_context
    def tv(ctx: Context, group: str, value: object) -> str:
        return translate_value(_locale_of(ctx), group, value)

    @pass_context
    def loc(ctx: Context, obj: Any, attr: str = "name") -> str:
        return localized(obj, attr, _locale_of(ctx))

    @pass_context
    def yuan_filter(ctx: Context, amount: Number | None) -> str:
        return yuan(amount, _locale_of(ctx))

    @pass_context
    def wanyuan_filter(ctx: Context, amount: Number | None) -> str:
        return wanyuan(amount, _locale_of(ctx))

    @pass_context
    def cn_date_filter(ctx: Context, value: date | str | None) -> str:
        return cn_date(value, _locale_of(ctx))

    @pass_context
    def cn_datetime_filter(ctx: Context, value: datetime | None) -> str:
        return cn_datetime(value, _locale_of(ctx))

    env.globals["t"] = t
    env.globals["tv"] = tv
    env.globals["loc"] = loc
    env.filters["yuan"] = yuan_filter
    env.filters["wanyuan"] = wanyuan_filter
    env.filters["cn_date"] = cn_date_filter
    env.filters["cn_datetime"] = cn_datetime_filter
