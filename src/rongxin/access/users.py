"""Person accounts: password (argon2id) + TOTP sign-in with lockout, for the web pages.

Rules:

- **Passwords** are at least 12 characters and differ from the username; only an argon2id hash
  is stored (re-hashed on sign-in when the parameters change).
- **TOTP** (:mod:`rongxin.access.totp`: RFC 6238, 30-second steps, ±1 step of drift) is
  required for operators and regulators and optional for everyone else. The secret is stored
  encrypted, shown once as an ``otpauth://`` provisioning URI, and each accepted time step is
  remembered: a code (or an older one) cannot be used twice.
- **Lockout**: ``login_max_failures`` failures in a row lock the account for
  ``login_lockout_minutes``; the counter starts again afterwards. Wrong password, wrong,
  missing or replayed code all count; attempts on a locked or disabled account do not.
- **One answer** for every failure (:class:`~rongxin.access.errors.LoginFailed`).

:func:`login` records failures (flushes) before raising, so its caller must commit even when it
fails: catch ``LoginFailed`` and answer, do not let it roll the transaction back.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Final, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rongxin.access import totp as otp
from rongxin.access.errors import LoginFailed, Unauthenticated
from rongxin.access.models import UserAccount
from rongxin.access.schemas import (
    Principal,
    PrincipalKind,
    TotpEnrolment,
    UserCreated,
    UserRead,
    UserStatus,
)
from rongxin.config import Settings
from rongxin.db.base import utcnow
from rongxin.entities import uscc as uscc_rules
from rongxin.errors import Conflict, InvalidInput, NotFound
from rongxin.logging import get_logger

log = get_logger(__name__)

PASSWORD_MIN_LENGTH: Final = 12
PASSWORD_MAX_LENGTH: Final = 1024
USERNAME_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
CODE_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
TOTP_REQUIRED: Final = frozenset({PrincipalKind.operator, PrincipalKind.regulator})

#: argon2id with the library's recommended parameters (RFC 9106 low-memory: t=3, 64 MiB, p=4)
PASSWORD_HASHER: Final = PasswordHasher()
_hasher = PASSWORD_HASHER  # the one in use (tests swap in a cheaper one)


# ---- validation ---------------------------------------------------------------------------------


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_username(username: str) -> str:
    """The normalized username, or InvalidInput naming the field."""
    name = normalize_username(username)
    if not USERNAME_PATTERN.match(name):
        raise InvalidInput(
            "username must be 3–64 characters: lower-case letters, digits, '.', '_', '-', '@', "
            "starting with a letter or digit",
            field="username",
        )
    return name


def check_password(password: str, *, username: str) -> None:
    """The password rules; the error names the field and the rule, never the password."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput(
            f"password must be at least {PASSWORD_MIN_LENGTH} characters", field="password"
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput(
            f"password must be at most {PASSWORD_MAX_LENGTH} characters", field="password"
        )
    if normalize_username(password) == normalize_username(username):
        raise InvalidInput("password must not be the username", field="password")


def check_principal_code(kind: PrincipalKind, code: str) -> str:
    """An enterprise user's code is its USCC (validated); others a provider/institution code."""
    if kind is PrincipalKind.enterprise:
        result = uscc_rules.validate(code)
        if not result.valid:
            raise InvalidInput(f"code: not a valid USCC: {result.reason}", field="code")
        return result.code
    if not CODE_PATTERN.match(code):
        raise InvalidInput(
            "code must be 1–64 letters, digits, '.', '_' or '-' (the organisation's code)",
            field="code",
        )
    return code


# ---- passwords ----------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the username is unknown, so both cases take as long."""
    return _hasher.hash(secrets.token_urlsafe(16))


# ---- accounts -----------------------------------------------------------------------------------


def to_read(user: UserAccount) -> UserRead:
    return UserRead(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        principal_kind=PrincipalKind(user.principal_kind),
        principal_code=user.principal_code,
        status=UserStatus(user.status),
        totp_enrolled=user.totp_secret_encrypted is not None,
        locked_until=user.locked_until,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def _get_by_username(session: Session, username: str) -> UserAccount | None:
    stmt = select(UserAccount).where(UserAccount.username == normalize_username(username))
    return session.scalars(stmt).one_or_none()


def username_taken(session: Session, *, username: str) -> bool:
    return _get_by_username(session, username) is not None


def get_user(session: Session, *, username: str) -> UserAccount:
    user = _get_by_username(session, username)
    if user is None:
        raise NotFound(f"no user {username!r}; `rongxin access user list` shows them")
    return user


def create_user(
    session: Session,
    *,
    settings: Settings,
    username: str,
    password: str,
    kind: PrincipalKind,
    code: str,
    display_name: str = "",
    enrol_totp: bool | None = None,
) -> UserCreated:
    """A new active account. Operators and regulators always get a TOTP secret; others when
    ``enrol_totp``. The provisioning URI is in the result, once."""
    name = check_username(username)
    check_password(password, username=name)
    code = check_principal_code(kind, code.strip())
    display = display_name.strip() or name
    if len(display) > 100:
        raise InvalidInput("display name must be at most 100 characters", field="display_name")
    if _get_by_username(session, name) is not None:
        raise Conflict(f"username {name!r} is taken; choose another", field="username")
    if enrol_totp is False and kind in TOTP_REQUIRED:
        raise InvalidInput(
            f"{kind.value} accounts must use a one-time code (TOTP)", field="enrol_totp"
        )
    now = utcnow()
    user = UserAccount(
        id=uuid.uuid4().hex,
        username=name,
        display_name=display,
        principal_kind=kind.value,
        principal_code=code,
        password_hash=hash_password(password),
        failed_attempts=0,
        status=UserStatus.active.value,
        created_at=now,
        password_changed_at=now,
    )
    uri = None
    if enrol_totp or kind in TOTP_REQUIRED:
        uri = _new_totp_secret(settings, user)
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent registration took the name
        raise Conflict(f"username {name!r} is taken; choose another", field="username") from exc
    log.info("user_created", user_id=user.id, kind=kind.value, code=code, totp=uri is not None)
    return UserCreated(**to_read(user).model_dump(), totp_provisioning_uri=uri)


def _new_totp_secret(settings: Settings, user: UserAccount) -> str:
    secret = otp.new_secret()
    user.totp_secret_encrypted = otp.encrypt_secret(settings, user_id=user.id, secret=secret)
    user.totp_last_step = None
    return otp.provisioning_uri(secret, username=user.username, settings=settings)


def reset_totp(session: Session, *, settings: Settings, username: str) -> TotpEnrolment:
    """A new TOTP secret (the old one stops working at once); the URI is shown once."""
    user = get_user(session, username=username)
    uri = _new_totp_secret(settings, user)
    session.flush()
    log.info("user_totp_reset", user_id=user.id)
    return TotpEnrolment(username=user.username, provisioning_uri=uri)


def set_status(session: Session, *, username: str, status: UserStatus) -> UserRead:
    """Disable (signs the person out at their next request) or enable an account."""
    user = get_user(session, username=username)
    user.status = status.value
    if status is UserStatus.active:
        user.failed_attempts, user.locked_until = 0, None
    session.flush()
    log.info("user_status_changed", user_id=user.id, status=status.value)
    return to_read(user)


def list_users(session: Session, *, kind: PrincipalKind | None = None) -> list[UserRead]:
    stmt = select(UserAccount).order_by(UserAccount.created_at, UserAccount.username)
    if kind is not None:
        stmt = stmt.where(UserAccount.principal_kind == kind.value)
    return [to_read(u) for u in session.scalars(stmt)]


# ---- signing in ---------------------------------------------------------------------------------


def _principal(user: UserAccount) -> Principal:
    return Principal(
        kind=PrincipalKind(user.principal_kind), code=user.principal_code, user_id=user.id
    )


def _record_failure(
    session: Session, user: UserAccount, *, settings: Settings, now: datetime, cause: str
) -> None:
    """Count a failure atomically (concurrent attempts are all counted); lock at the limit."""
    result = session.execute(
        update(UserAccount)
        .where(UserAccount.id == user.id)
        .values(failed_attempts=UserAccount.failed_attempts + 1)
        .returning(UserAccount.failed_attempts)
        .execution_options(synchronize_session=False)
    )
    failures = int(result.scalar_one())
    session.expire(user, ["failed_attempts"])
    locked = failures >= settings.login_max_failures
    if locked:
        user.failed_attempts = 0
        user.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
    session.flush()
    log.warning("login_failed", user_id=user.id, cause=cause, failures=failures, locked=locked)


def _claim_step(session: Session, user: UserAccount, step: int) -> bool:
    """Remember ``step`` as used, unless it (or a later one) was used already: atomic, so two
    requests with the same code cannot both succeed."""
    result = cast(
        CursorResult[Any],
        session.execute(
            update(UserAccount)
            .where(
                UserAccount.id == user.id,
                or_(UserAccount.totp_last_step.is_(None), UserAccount.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        ),
    )
    session.expire(user, ["totp_last_step"])
    return result.rowcount == 1


def login(
    session: Session,
    *,
    settings: Settings,
    username: str,
    password: str,
    totp: str = "",
    now: datetime | None = None,
) -> Principal:
    """The principal of a person whose credentials are right, else :class:`LoginFailed`.

    Failures are flushed before raising: the caller commits (see the module docstring).
    """
    now = now or utcnow()
    user = _get_by_username(session, username) if len(password) <= PASSWORD_MAX_LENGTH else None
    if user is None:
        _password_matches(_dummy_hash(), password[:PASSWORD_MAX_LENGTH])
        log.info("login_failed", cause="unknown_user")
        raise LoginFailed()
    if user.status != UserStatus.active.value:
        _password_matches(_dummy_hash(), password)
        log.warning("login_failed", user_id=user.id, cause="disabled")
        raise LoginFailed()
    if user.locked_until is not None and user.locked_until > now:
        _password_matches(_dummy_hash(), password)
        log.warning("login_failed", user_id=user.id, cause="locked")
        raise LoginFailed()
    if not _password_matches(user.password_hash, password):
        _record_failure(session, user, settings=settings, now=now, cause="password")
        raise LoginFailed()
    kind = PrincipalKind(user.principal_kind)
    if user.totp_secret_encrypted is not None:
        secret = otp.decrypt_secret(settings, user_id=user.id, stored=user.totp_secret_encrypted)
        step = otp.matching_step(secret, totp, now=now) if secret is not None else None
        if step is None:
            cause = "totp" if secret is not None else "totp_unreadable"
            _record_failure(session, user, settings=settings, now=now, cause=cause)
            raise LoginFailed()
        if not _claim_step(session, user, step):
            _record_failure(session, user, settings=settings, now=now, cause="totp_replayed")
            raise LoginFailed()
    elif kind in TOTP_REQUIRED:
        _record_failure(session, user, settings=settings, now=now, cause="totp_not_enrolled")
        raise LoginFailed()
    user.failed_attempts, user.locked_until, user.last_login_at = 0, None, now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.flush()
    log.info("login_succeeded", user_id=user.id, kind=kind.value)
    return _principal(user)


def principal_for_user(session: Session, *, user_id: str) -> Principal:
    """The principal of an active account by id (web sessions re-check it on every request)."""
    user = session.get(UserAccount, user_id) if user_id else None
    if user is None or user.status != UserStatus.active.value:
        raise Unauthenticated("unknown or disabled user account")
    return _principal(user)


def user_is_active(session: Session, principal: Principal) -> bool:
    """The account behind ``principal`` exists, is active and still names the same party."""
    user = session.get(UserAccount, principal.user_id) if principal.user_id else None
    return (
        user is not None
        and user.status == UserStatus.active.value
        and user.principal_kind == principal.kind.value
        and user.principal_code == principal.code
    )


def display_name(session: Session, *, user_id: str) -> str:
    user = session.get(UserAccount, user_id)
    return user.display_name if user is not None else ""
