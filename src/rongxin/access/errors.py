from __future__ import annotations

from typing import Any

from rongxin.errors import Forbidden as BaseForbidden
from rongxin.errors import RongxinError


class Unauthenticated(RongxinError):
    status = 401
    code = "unauthenticated"
    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012 - read-only class constant


class Forbidden(BaseForbidden):
    """The caller is known but may not do this."""


LOGIN_FAILED_MESSAGE = (
    "sign-in failed: the username, password or one-time code is wrong, or the account is "
    "locked or disabled"
)


class LoginFailed(Unauthenticated):
    """A person's sign-in failed. One message for every cause (unknown user, wrong password,
    wrong, missing or replayed one-time code, locked or disabled account): it never says which
    part was wrong."""

    code = "login_failed"

    def __init__(self) -> None:
        super().__init__(LOGIN_FAILED_MESSAGE)


class TooManyAttempts(RongxinError):
    """Too many failed attempts: locked until ``retry_after`` seconds have passed."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.headers = {"Retry-After": str(max(1, retry_after))}


class OAuthError(RongxinError):
    """An OAuth 2.0 token-endpoint error (RFC 6749 §5.2): the body is
    ``{"error": code, "error_description": message}`` and caches are told not to keep it."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message, status=status)
        self.code = code
        self.headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if status == 401:
            self.headers["WWW-Authenticate"] = 'Basic realm="rongxin", charset="UTF-8"'

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "error_description": self.message}
