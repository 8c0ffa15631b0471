"""Person accounts: argon2 passwords, encrypted TOTP secrets, one answer for every failed
sign-in, lockout and unlock on a passed clock, replay protection, disabling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from access_helpers import PASSWORD, T0, MadeUser, secret_of
from argon2 import PasswordHasher, Type
from sqlalchemy import select
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access import totp, users
from rongxin.access.errors import LOGIN_FAILED_MESSAGE, LoginFailed, Unauthenticated
from rongxin.access.models import UserAccount
from rongxin.access.schemas import Principal, PrincipalKind, UserStatus
from rongxin.config import Settings
from rongxin.errors import Conflict, InvalidInput

MakeUser = Callable[..., MadeUser]


def _row(session: Session, user: MadeUser) -> UserAccount:
    found = session.get(UserAccount, user.id)
    assert found is not None
    session.refresh(found)
    return found


def _fail(
    session: Session,
    settings: Settings,
    user: MadeUser,
    *,
    username: str | None = None,
    password: str | None = None,
    totp: str = "",
    now: datetime = T0,
) -> str:
    """Sign in with the given (wrong) parts; the failure's message."""
    with pytest.raises(LoginFailed) as caught:
        users.login(
            session,
            settings=settings,
            username=username or user.username,
            password=password or user.password,
            totp=totp,
            now=now,
        )
    return caught.value.message


# ---- storing secrets ----------------------------------------------------------------------------


def test_password_is_an_argon2id_hash_never_the_plaintext(
    session: Session, make_user: MakeUser
) -> None:
    user = make_user()
    row = _row(session, user)
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    other = make_user(code="bank-b")
    assert _row(session, other).password_hash != row.password_hash  # salted


def test_production_hasher_uses_argon2id_with_recommended_cost() -> None:
    hasher = users.PASSWORD_HASHER
    assert hasher.type is Type.ID
    assert hasher.memory_cost >= 64 * 1024  # KiB
    assert hasher.time_cost >= 3
    assert hasher.hash("x" * 12).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_hashes_made_with_old_parameters_are_upgraded_at_sign_in(
    session: Session, settings: Settings, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user()
    old = _row(session, user).password_hash
    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=2, memory_cost=128, parallelism=1)
    )
    users.login(session, settings=settings, username=user.username, password=PASSWORD, now=T0)
    new = _row(session, user).password_hash
    assert new != old
    assert ",t=2," in new


def test_totp_secret_is_encrypted_and_bound_to_its_account(
    session: Session, settings: Settings, make_user: MakeUser
) -> None:
    user = make_user("operator", "ops")
    assert user.totp_secret is not None
    row = _row(session, user)
    assert row.totp_secret_encrypted is not None
    assert user.totp_secret not in row.totp_secret_encrypted
    assert (
        totp.decrypt_secret(settings, user_id=user.id, stored=row.totp_secret_encrypted)
        == user.totp_secret
    )
    # the account id is authenticated data: the ciphertext does not open for another account
    assert (
        totp.decrypt_secret(settings, user_id="someone-else", stored=row.totp_secret_encrypted)
        is None
    )
    other_key = settings.model_copy(update={"secret_key": "another-secret-key-of-enough-length"})
    assert totp.decrypt_secret(other_key, user_id=user.id, stored=row.totp_secret_encrypted) is None


def test_operators_and_regulators_always_get_totp_others_on_request(
    make_user: MakeUser,
) -> None:
    assert make_user("operator", "ops").totp_secret is not None
    assert make_user("regulator", "pboc").totp_secret is not None
    assert make_user("institution", "bank-a").totp_secret is None
    assert make_user("provider", "samr", totp=True).totp_secret is not None
    with pytest.raises(InvalidInput, match="must use a one-time code") as caught:
        make_user("operator", "ops", totp=False)
    assert caught.value.details["field"] == "enrol_totp"


# ---- account rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "rule"),
    [("short-pass", "at least 12 characters"), ("Alice.Wang01", "must not be the username")],
)
def test_password_rules_name_the_field(make_user: MakeUser, password: str, rule: str) -> None:
    with pytest.raises(InvalidInput, match=rule) as caught:
        make_user(username="alice.wang01", password=password)
    assert caught.value.details["field"] == "password"
    assert password not in caught.value.message


@pytest.mark.parametrize("username", ["ab", "Has Space", "-dash-first", "x" * 65, "中文名"])
def test_bad_usernames_are_refused(make_user: MakeUser, username: str) -> None:
    with pytest.raises(InvalidInput, match="username must be") as caught:
        make_user(username=username)
    assert caught.value.details["field"] == "username"


def test_usernames_are_unique_case_insensitively(make_user: MakeUser) -> None:
    made = make_user(username="Zhang.Wei")
    assert made.username == "zhang.wei"
    with pytest.raises(Conflict, match="taken") as caught:
        make_user(username="ZHANG.WEI")
    assert caught.value.status == 409


def test_enterprise_code_must_be_a_valid_uscc(make_user: MakeUser) -> None:
    with pytest.raises(InvalidInput, match="not a valid USCC") as caught:
        make_user("enterprise", "91350100M000100Y44")
    assert caught.value.details["field"] == "code"
    assert make_user("enterprise", "91350100m000100y43").code == "91350100M000100Y43"


# ---- signing in ---------------------------------------------------------------------------------


def test_right_password_signs_in_without_totp_for_staff_of_institutions(
    session: Session, settings: Settings, make_user: MakeUser
) -> None:
    user = make_user("institution", "bank-a")
    principal = users.login(
        session, settings=settings, username=user.username.upper(), password=PASSWORD, now=T0
    )
    assert principal == Principal(kind=PrincipalKind.institution, code="bank-a", user_id=user.id)
    assert _row(session, user).last_login_at == T0


def test_operator_needs_password_and_current_code(
    session: Session, settings: Settings, make_user: MakeUser
) -> None:
    user = make_user("operator", "ops")
    principal = users.login(
        session,
        settings=settings,
        username=user.username,
        password=PASSWORD,
        totp=user.code_at(T0),
        now=T0,
    )
    assert principal.kind is PrincipalKind.operator
    assert principal.user_id == user.id
    # a code from the previous step is still accepted (clock drift) once
    later = T0 + timedelta(seconds=30)
    assert (
        users.login(
            session,
            settings=settings,
            username=user.username,
            password=PASSWORD,
            totp=user.code_at(later + timedelta(seconds=30)),
            now=later,
        ).user_id
        == user.id
    )


def test_every_failure_gives_the_same_answer(
    session: Session, settings: Settings, make_user: MakeUser
) -> None:
    settings = settings.model_copy(update={"login_max_failures": 50})  # no lockout here
    op = make_user("operator", "ops")
    good = op.code_at(T0)
    wrong_code = f"{(int(good) + 1) % 1_000_000:06d}"
    messages = {
        "unknown user": _fail(session, settings, op, username="nobody-here"),
        "wrong password": _fail(session, settings, op, password="wrong password 123", totp=good),
        "wrong code": _fail(session, settings, op, totp=wrong_code),
        "missing code": _fail(session, settings, op, totp=""),
        "not a code": _fail(session, settings, op, totp="abcdef"),
        "stale code": _fail(session, settings, op, totp=op.code_at(T0 - timedelta(minutes=5))),
    }
    users.login(
        session, settings=settings, username=op.username, password=PASSWORD, totp=good, now=T0
    )
    messages["replayed code"] = _fail(session, settings, op, totp=good)
    assert set(messages.values()) == {LOGIN_FAILED_MESSAGE}
    assert LoginFailed().status == 401


def test_a_code_cannot_be_used_twice_nor_an_older_one_after_a_newer(
    session: Session, settings: Settings, make_user: MakeUser
) -> None:
    op = make_user("operator", "ops")
    now = T0 + timedelta(seconds=30)
    newer = op.code_at(now)
    users.login(
        session, settings=settings, username=op.username, password=PASSWORD, totp=newer, now=now
    )
    step = _row(session, op).totp_last_step
    assert step == int(now.timestamp()) // 30
    # the previous step's code is within the drift window, but older than the one used
    _fail(session, settings, op, totp=op.code_at(T0), now=now)
    _fail(session, settings, op, totp=newer, now=now)
    assert _row(session, op).failed_attempts == 2


def test_lockout_after_n_failures_and_unlock_after_the_lockout(
    session: Session, settings: Settings, make_user: MakeUser
) -> None:
    user = make_user()
    limit = settings.login_max_failures
    for attempt in range(limit):
        _fail(session, settings, user, password=f"wrong password {attempt}")
    row = _row(session, user)
    assert row.locked_until == T0 + timedelta(minutes=settings.login_lockout_minutes)
    # locked: even the right password fails, with the same message, and is not counted
    almost = T0 + timedelta(minutes=settings.login_lockout_minutes) - timedelta(seconds=1)
    assert _fail(session, settings, user, now=almost) == LOGIN_FAILED_MESSAGE
    assert _row(session, user).failed_attempts == 0
    # after the lockout the right password works and clears the lock
    after = T0 + timedelta(minutes=settings.login_lockout_minutes)
    principal = users.login(
        session, settings=settings, username=user.username, password=PASSWORD, now=after
    )
    assert principal.user_id == user.id
    assert _row(session, user).locked_until is None


def test_failures_below_the_limit_are_forgotten_after_a_success(
    session: Session, settings: Settings, make_user: MakeUser
) -> None:
    user = make_user()
    for _ in range(settings.login_max_failures - 1):
        _fail(session, settings, user, password="not the password")
    assert _row(session, user).failed_attempts == settings.login_max_failures - 1
    users.login(session, settings=settings, username=user.username, password=PASSWORD, now=T0)
    assert _row(session, user).failed_attempts == 0
    _fail(session, settings, user, password="not the password")
    assert _row(session, user).locked_until is None


def test_disabled_account_cannot_sign_in_and_its_principal_is_inactive(
    session: Session, settings: Settings, make_user: MakeUser
) -> None:
    user = make_user("provider", "samr")
    principal = users.login(
        session, settings=settings, username=user.username, password=PASSWORD, now=T0
    )
    assert access_service.principal_is_active(session, principal)
    read = users.set_status(session, username=user.username, status=UserStatus.disabled)
    assert read.status is UserStatus.disabled
    assert not access_service.principal_is_active(session, principal)
    assert _fail(session, settings, user) == LOGIN_FAILED_MESSAGE
    with pytest.raises(Unauthenticated):
        users.principal_for_user(session, user_id=user.id)
    users.set_status(session, username=user.username, status=UserStatus.active)
    assert access_service.principal_is_active(session, principal)


def test_reset_totp_replaces_the_secret(
    session: Session, settings: Settings, make_user: MakeUser
) -> None:
    op = make_user("operator", "ops")
    enrolment = users.reset_totp(session, settings=settings, username=op.username)
    assert enrolment.provisioning_uri.startswith("otpauth://totp/")
    assert "rongxin" in enrolment.provisioning_uri
    new_secret = secret_of(enrolment.provisioning_uri)
    assert new_secret is not None
    assert new_secret != op.totp_secret
    _fail(session, settings, op, totp=op.code_at(T0))  # the old code no longer works
    principal = users.login(
        session,
        settings=settings,
        username=op.username,
        password=PASSWORD,
        totp=totp.code_at(new_secret, at=T0),
        now=T0,
    )
    assert principal.user_id == op.id


def test_listing_never_shows_secrets(session: Session, make_user: MakeUser) -> None:
    op = make_user("operator", "ops")
    listed = [u for u in users.list_users(session, kind=PrincipalKind.operator) if u.id == op.id]
    assert len(listed) == 1
    dumped = listed[0].model_dump_json()
    assert listed[0].totp_enrolled is True
    assert "argon2" not in dumped
    assert op.totp_secret is not None
    assert op.totp_secret not in dumped
    stored = session.scalars(select(UserAccount.password_hash)).all()
    assert all(h.startswith("$argon2id$") for h in stored)
