"""Signing in to the pages with an organisation's API key, the session cookie and signing out."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from web_helpers import csrf_of, sign_in

from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind
from rongxin.web import auth


def session_payload(client: TestClient) -> dict[str, object]:
    """The (signed, not encrypted) session cookie's JSON payload."""
    raw = client.cookies[auth.SESSION_COOKIE]
    data = raw.split(".")[0]
    payload: dict[str, object] = json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))
    return payload


def test_signin_page_renders_in_both_locales(secure_client: TestClient) -> None:
    zh = secure_client.get("/signin")
    assert zh.status_code == 200
    assert '<html lang="zh-CN">' in zh.text
    assert "机构工作人员登录" in zh.text
    assert 'name="token"' in zh.text
    assert 'type="password"' in zh.text
    assert zh.headers["cache-control"] == "no-store"
    csrf_of(zh.text)
    en = secure_client.get("/signin?lang=en")
    assert '<html lang="en">' in en.text
    assert "Sign in for staff" in en.text
    # every kind of user is told it may sign in here; punctuation follows the language
    assert "金融机构和企业的工作人员" in zh.text
    assert "financial institutions and enterprises" in en.text
    assert 'visually-hidden">当前节点：</span>' in zh.text
    assert 'visually-hidden">This node: </span>' in en.text


def test_anonymous_header_offers_signin(secure_client: TestClient) -> None:
    html = secure_client.get("/catalog").text
    assert 'href="/signin?next=/catalog"' in html
    assert "退出登录" not in html
    assert "数据质量" not in html


def test_bad_key_shows_an_error_and_does_not_sign_in(
    secure_client: TestClient, make_token: Callable[..., str]
) -> None:
    token = make_token("operator", "ops")
    form = secure_client.get("/signin")
    for wrong in ("rx_nothing_here", token[:-2] + "xx", "", "not-a-key"):
        r = secure_client.post(
            "/signin", data={"token": wrong, "csrf": csrf_of(form.text), "next": "/quality"}
        )
        assert r.status_code == 400
        assert "密钥无效、已过期或已被吊销" in r.text
        assert 'role="alert"' in r.text
        assert 'aria-invalid="true"' in r.text
    assert secure_client.get("/quality", follow_redirects=False).status_code == 303


def test_a_key_of_an_institution_without_access_does_not_sign_in(
    secure_client: TestClient, session: Session
) -> None:
    """A valid key is not enough: its holder must be able to act (an institution onboarded and
    active), checked at sign-in as on every request."""
    kind = PrincipalKind.institution
    token = access_service.create_api_key(session, kind=kind, code="bank-not-onboarded").token
    form = secure_client.get("/signin")
    r = secure_client.post(
        "/signin", data={"token": token, "csrf": csrf_of(form.text), "next": "/"}
    )
    assert r.status_code == 400
    assert "密钥无效、已过期或已被吊销" in r.text
    assert secure_client.get("/quality", follow_redirects=False).status_code == 303


def test_good_key_signs_in_with_a_signed_cookie_without_the_token(
    secure_client: TestClient, make_token: Callable[..., str]
) -> None:
    token = make_token("operator", "ops")
    sign_in(secure_client, token, next_url="/quality")
    payload = session_payload(secure_client)
    signed = payload[auth.SESSION_KEY]
    assert isinstance(signed, dict)
    assert signed["kind"] == "operator"
    assert signed["code"] == "ops"
    assert set(signed) == {"key_id", "kind", "code"}
    # rx_<key_id>_<secret>: the secret is everything after the second "_" (it may hold "_"
    # itself: splitting at the last one once left a single letter, found in any cookie)
    secret = token.removeprefix("rx_").partition("_")[2]
    assert len(secret) >= 20
    assert secret not in secure_client.cookies[auth.SESSION_COOKIE]
    assert secret not in json.dumps(payload)
    page = secure_client.get("/quality")
    assert page.status_code == 200
    assert "平台运营方" in page.text
    assert "ops" in page.text
    assert "退出登录" in page.text
    # a signed-in visitor of /signin goes on to `next`
    again = secure_client.get("/signin?next=/quality", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == "/quality"


def test_session_cookie_flags(secure_client: TestClient, make_token: Callable[..., str]) -> None:
    form = secure_client.get("/signin")
    r = secure_client.post(
        "/signin",
        data={"token": make_token("operator", "ops"), "csrf": csrf_of(form.text), "next": "/"},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith(f"{auth.SESSION_COOKIE}=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" in cookie  # environment=test: only development sends it over http
    assert f"max-age={8 * 3600}" in cookie


def test_a_tampered_cookie_is_anonymous(
    secure_client: TestClient, make_token: Callable[..., str]
) -> None:
    sign_in(secure_client, make_token("operator", "ops"))
    value = secure_client.cookies[auth.SESSION_COOKIE]
    payload = session_payload(secure_client)
    payload[auth.SESSION_KEY] = {**payload[auth.SESSION_KEY], "kind": "regulator"}  # type: ignore[dict-item]
    forged = base64.b64encode(json.dumps(payload).encode()).decode() + value[value.index(".") :]
    secure_client.cookies.clear()
    secure_client.cookies.set(auth.SESSION_COOKIE, forged)
    assert secure_client.get("/quality", follow_redirects=False).status_code == 303


def test_signin_form_needs_its_csrf_token(
    secure_client: TestClient, make_token: Callable[..., str]
) -> None:
    r = secure_client.post(
        "/signin", data={"token": make_token("operator", "ops"), "csrf": "forged", "next": "/"}
    )
    assert r.status_code == 400
    assert "登录页面已过期" in r.text
    assert secure_client.get("/quality", follow_redirects=False).status_code == 303


def test_revoked_key_is_signed_out_at_once(
    secure_client: TestClient, make_token: Callable[..., str], session: Session
) -> None:
    token = make_token("operator", "ops")
    sign_in(secure_client, token)
    assert secure_client.get("/quality").status_code == 200
    key_id = token[len("rx_") :].split("_", 1)[0]
    access_service.revoke_api_key(session, key_id=key_id)
    r = secure_client.get("/quality", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/signin?next=/quality"
    home = secure_client.get("/")
    assert "退出登录" not in home.text
    assert auth.SESSION_COOKIE not in secure_client.cookies  # the cookie was deleted


def test_anonymous_is_redirected_to_signin_with_next(secure_client: TestClient) -> None:
    r = secure_client.get("/quality?provider=samr", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/signin?next=/quality%3Fprovider%3Dsamr"
    page = secure_client.get(r.headers["location"])
    assert 'name="next" value="/quality?provider=samr"' in page.text
    htmx = secure_client.get("/providers/samr/batches", headers={"HX-Request": "true"})
    assert htmx.headers["hx-redirect"] == "/signin?next=/providers/samr/batches"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "quality",
        "/quality\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_open_redirects_are_refused(
    secure_client: TestClient, make_token: Callable[..., str], target: str
) -> None:
    assert auth.safe_next(target) == "/"
    form = secure_client.get("/signin")
    r = secure_client.post(
        "/signin",
        data={"token": make_token("operator", "ops"), "csrf": csrf_of(form.text), "next": target},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/"


@pytest.mark.parametrize("target", ["/quality", "/providers/samr/batches?offset=20", "/"])
def test_relative_next_is_followed(target: str) -> None:
    assert auth.safe_next(target) == target


def test_signout_needs_the_csrf_token(
    secure_client: TestClient, make_token: Callable[..., str]
) -> None:
    sign_in(secure_client, make_token("regulator", "pboc-sup"))
    page = secure_client.get("/quality")
    assert 'action="/signout"' in page.text
    token = csrf_of(page.text)
    for forged in ({}, {"csrf": "x" * 43}):
        r = secure_client.post("/signout", data=forged, follow_redirects=False)
        assert r.status_code == 403
        assert "安全校验" in r.text
        assert secure_client.get("/quality").status_code == 200  # still signed in
    r = secure_client.post("/signout", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    assert secure_client.get("/quality", follow_redirects=False).status_code == 303


def test_wrong_kind_gets_a_403_page(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in("institution", "bank-a")
    r = client.get("/quality")
    assert r.status_code == 403
    assert '<html lang="zh-CN">' in r.text
    assert "此页面仅向平台运营方或监管部门开放" in r.text
    assert '<h1 id="error-heading">无权访问</h1>' in r.text
    assert "接入机构" in r.text  # the header still shows who is signed in
    en = client.get("/quality?lang=en")
    assert "only for those signed in as: Platform operator or Regulator." in en.text
    assert '<h1 id="error-heading">Access denied</h1>' in en.text


def test_two_people_of_one_party_are_two_actors_for_the_four_eyes_rule() -> None:
    """Signed in with person accounts, two operators of the same party act as different people
    (the user id names them), while one key stays one actor."""
    from rongxin.access.schemas import PrincipalKind
    from rongxin.web.auth import WebPrincipal, staff_actor

    def person(user_id: str) -> WebPrincipal:
        return WebPrincipal(PrincipalKind.operator, "platform", None, "运营", user_id=user_id)

    assert staff_actor(person("u-1")) != staff_actor(person("u-2"))
    assert staff_actor(person("u-1")) == staff_actor(person("u-1"))
    key = WebPrincipal(PrincipalKind.operator, "platform", "k-1", "运营")
    assert staff_actor(key).endswith("/key:k-1")
