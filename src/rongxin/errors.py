"""Domain errors carry their HTTP status; one handler renders them."""

from __future__ import annotations

from typing import Any


class RongxinError(Exception):
    """Base of every expected error. ``status`` is the HTTP status the API answers with."""

    status: int = 400
    code: str = "error"
    headers: dict[str, str] | None = None

    def __init__(self, message: str, *, status: int | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class NotFound(RongxinError):
    status = 404
    code = "not_found"


class InvalidInput(RongxinError):
    status = 422
    code = "invalid_input"


class Forbidden(RongxinError):
    status = 403
    code = "forbidden"


class Conflict(RongxinError):
    status = 409
    code = "conflict"


class ServiceUnavailable(RongxinError):
    status = 503
    code = "unavailable"
