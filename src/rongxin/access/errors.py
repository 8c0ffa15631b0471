from __future__ import annotations

from rongxin.errors import Forbidden as BaseForbidden
from rongxin.errors import RongxinError


class Unauthenticated(RongxinError):
    status = 401
    code = "unauthenticated"
    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012 - read-only class constant


class Forbidden(BaseForbidden):
    """The caller is known but may not do this."""
