"""Ingestion errors: each says what was wrong, where (file, line, field) and what to do."""

from __future__ import annotations

from rongxin.errors import Forbidden as _Forbidden
from rongxin.errors import InvalidInput


class FileRejected(InvalidInput):
    """A delivered file is unreadable or has invalid rows; ``details['problems']`` lists them
    with file, line, field, value and reason. Nothing was written."""

    code = "file_rejected"


class NotStored(_Forbidden):
    """An interface or verification item was delivered: the platform does not store those."""

    code = "not_stored"


class WrongProvider(_Forbidden):
    """A provider delivered an item it does not provide."""

    code = "wrong_provider"
