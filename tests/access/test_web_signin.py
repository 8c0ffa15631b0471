"""Person sign-in and enterprise registration on the pages: CSRF on every POST, TOTP, one error
for every failure, lockout, no open redirects, accounts re-checked on every request."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from access_helpers import PASSWORD, MadeUser, csrf_of, make_id_number, session_payload
from entity_factories import make_uscc
from fastapi.testclient import TestClient
from httpx2 import Response
from record_factories import create_record
from sqlalchemy.orm import Session

from rongxin.access import users
from rongxin.access.models import UserAccount
from rongxin.access.schemas import UserStatus
from rongxin.config import Settings
from rongxin.db.base import utcnow
from rongxin.web import auth

MakeUser = Callable[..., MadeUser]
LOGIN_ERROR = "登录失败：用户名、口令或动态口令不正确"


def _sign_in(
    client: TestClient,
    user: MadeUser,
    *,
    password: str | None = None,
    totp: str = "",
    next_url: str = "/",
    csrf: str | None = None,
) -> Response:
    form = client.get("/signin/account")
    assert form.status_code == 200
    return client.post(
        "/signin/account",
        data={
            "username": user.username,
            "password": password if password is not None else user.password,
            "totp": totp,
            "csrf": csrf if csrf is not None else csrf_of(form.text),
            "next": next_url,
        },
        follow_redirects=False,
    )


def test_account_form_renders_in_both_locales(secure_client: TestClient) -> None:
    zh = secure_client.get("/signin/account")
    assert zh.status_code == 200
    assert zh.headers["cache-control"] == "no-store"
    assert "个人账户登录" in zh.text
    for field in ('name="username"', 'name="password"', 'name="totp"', 'name="csrf"'):
        assert field in zh.text
    assert 'autocomplete="one-time-code"' in zh.text
    en = secure_client.get("/signin/account?lang=en")
    assert "Sign in with your account" in en.text
    signin = secure_client.get("/signin?next=/quality")
    assert 'href="/signin/account?next=/quality"' in signin.text
    assert 'href="/register"' in signin.text
    assert 'name="token"' in signin.text  # organisation keys still sign in here


def test_staff_user_signs_in_and_out(secure_client: TestClient, make_user: MakeUser) -> None:
    user = make_user("provider", "samr", display_name="王小明")
    r = _sign_in(secure_client, user, next_url="/entities")
    assert r.status_code == 303
    assert r.headers["location"] == "/entities"
    signed = session_payload(secure_client)[auth.SESSION_KEY]
    assert signed == {"user_id": user.id, "kind": "provider", "code": "samr"}
    assert PASSWORD not in secure_client.cookies[auth.SESSION_COOKIE]
    page = secure_client.get("/")
    assert "王小明 · 市场监管总局" in page.text  # the provider's catalog name
    assert "退出登录" in page.text
    assert secure_client.get("/quality").status_code == 403  # operators' page
    r = secure_client.post("/signout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert "退出登录" not in secure_client.get("/").text


def test_operator_signs_in_with_totp_and_sees_operator_pages(
    secure_client: TestClient, make_user: MakeUser
) -> None:
    op = make_user("operator", "ops")
    r = _sign_in(secure_client, op, totp=op.code_at(utcnow()), next_url="/quality")
    assert r.status_code == 303, r.text
    assert secure_client.get("/quality").status_code == 200


def test_every_failure_shows_the_same_error(
    secure_client: TestClient, make_user: MakeUser, session: Session
) -> None:
    op = make_user("operator", "ops")
    good = op.code_at(utcnow())
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    stranger = MadeUser("x", "nobody-at-all", PASSWORD, op.kind, "ops", None)
    answers = [
        _sign_in(secure_client, op, totp=""),  # code missing
        _sign_in(secure_client, op, totp=wrong),  # code wrong
        _sign_in(secure_client, op, password="wrong password 1", totp=good),
        _sign_in(secure_client, stranger),
    ]
    for r in answers:
        assert r.status_code == 400
        assert LOGIN_ERROR in r.text
        assert 'role="alert"' in r.text
    assert len({r.text.split('role="alert"')[1][:200] for r in answers}) == 1
    assert secure_client.get("/quality", follow_redirects=False).status_code == 303
    row = session.get(UserAccount, op.id)
    assert row is not None
    session.refresh(row)
    assert row.failed_attempts == 3  # the unknown user counts against no one


def test_lockout_is_honoured_on_the_page(
    secure_client: TestClient, make_user: MakeUser, settings: Settings
) -> None:
    user = make_user()
    for _ in range(settings.login_max_failures):
        assert _sign_in(secure_client, user, password="not my password").status_code == 400
    locked = _sign_in(secure_client, user)  # the right password, while locked
    assert locked.status_code == 400
    assert LOGIN_ERROR in locked.text


def test_signin_needs_its_csrf_token(secure_client: TestClient, make_user: MakeUser) -> None:
    user = make_user()
    r = _sign_in(secure_client, user, csrf="forged-token")
    assert r.status_code == 400
    assert "登录页面已过期" in r.text
    secure_client.cookies.clear()
    r = secure_client.post(
        "/signin/account",
        data={"username": user.username, "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 400
    assert auth.SESSION_KEY not in session_payload(secure_client)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_no_open_redirect_after_signin(
    secure_client: TestClient, make_user: MakeUser, target: str
) -> None:
    r = _sign_in(secure_client, make_user(), next_url=target)
    assert r.status_code == 303
    assert r.headers["location"] == "/"


def test_disabled_account_is_signed_out_at_once(
    secure_client: TestClient, make_user: MakeUser, session: Session
) -> None:
    user = make_user("regulator", "pboc")
    _sign_in(secure_client, user, totp=user.code_at(utcnow()), next_url="/quality")
    assert secure_client.get("/quality").status_code == 200
    users.set_status(session, username=user.username, status=UserStatus.disabled)
    r = secure_client.get("/quality", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/signin?next=/quality"
    assert auth.SESSION_COOKIE not in secure_client.cookies


def test_cookie_naming_another_party_than_the_account_is_refused(
    secure_client: TestClient, make_user: MakeUser, session: Session
) -> None:
    user = make_user("provider", "samr")
    _sign_in(secure_client, user)
    assert "退出登录" in secure_client.get("/").text
    row = session.get(UserAccount, user.id)
    assert row is not None
    row.principal_code = "spc"  # the account was moved to another provider
    session.flush()
    assert "退出登录" not in secure_client.get("/").text


# ---- registration page --------------------------------------------------------------------------

REP_NAME = "陈建国"
REP_ID = make_id_number("350102", "19750603", "031")


def _register_page(client: TestClient, session: Session, **overrides: str) -> Response:
    uscc = overrides.pop("uscc", None) or make_uscc(seed=31)
    create_record(
        session,
        item_code="registration",
        uscc=uscc,
        payload={
            "name": "福州测试有限公司",
            "legal_rep_name": REP_NAME,
            "legal_rep_id_number": REP_ID,
        },
    )
    form = client.get("/register")
    assert form.status_code == 200
    data = {
        "uscc": uscc,
        "legal_rep_name": REP_NAME,
        "legal_rep_id_number": REP_ID,
        "username": "chen.jianguo",
        "display_name": "陈总（法定代表人）",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "csrf": csrf_of(form.text),
    } | overrides
    return client.post("/register", data=data, follow_redirects=False)


def test_registration_page_renders(secure_client: TestClient) -> None:
    page = secure_client.get("/register")
    assert page.status_code == 200
    assert "企业实名注册" in page.text
    assert 'name="legal_rep_id_number"' in page.text
    assert 'autocapitalize="characters"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "Enterprise real-name registration" in secure_client.get("/register?lang=en").text


def test_verified_registration_signs_the_enterprise_in(
    secure_client: TestClient, session: Session
) -> None:
    r = _register_page(secure_client, session)
    assert r.status_code == 200, r.text
    assert "核验通过" in r.text
    assert "chen.jianguo" in r.text
    assert REP_ID not in r.text
    signed = session_payload(secure_client)[auth.SESSION_KEY]
    assert signed["kind"] == "enterprise"
    assert "user_id" in signed
    home = secure_client.get("/")
    assert "陈总（法定代表人）" in home.text
    assert "市场主体" in home.text


def test_not_verified_registration_shows_no_recorded_value(
    secure_client: TestClient, session: Session
) -> None:
    r = _register_page(secure_client, session, legal_rep_name="陈建")
    assert r.status_code == 400
    assert "核验未通过" in r.text
    assert REP_NAME not in r.text
    assert REP_ID not in r.text  # neither the recorded nor the claimed number comes back
    assert 'value="chen.jianguo"' in r.text  # the username is kept
    assert auth.SESSION_KEY not in session_payload(secure_client)


def test_registration_field_errors_are_marked(secure_client: TestClient, session: Session) -> None:
    bad_id = _register_page(secure_client, session, legal_rep_id_number=REP_ID[:-1] + "0")
    assert bad_id.status_code == 400
    assert "不是有效的居民身份证号码" in bad_id.text
    assert 'id="legal_rep_id_number-error"' in bad_id.text
    assert 'aria-invalid="true"' in bad_id.text
    mismatch = _register_page(
        secure_client, session, uscc=make_uscc(seed=32), password_confirm="something else 1"
    )
    assert mismatch.status_code == 400
    assert "两次输入的口令不一致" in mismatch.text
    forged = _register_page(secure_client, session, uscc=make_uscc(seed=33), csrf="forged")
    assert forged.status_code == 400
    assert "已过期" in forged.text
    missing = secure_client.post(
        "/register", data={"csrf": csrf_of(secure_client.get("/register").text)}
    )
    assert missing.status_code == 400
    assert missing.text.count("此项为必填项") == 5
