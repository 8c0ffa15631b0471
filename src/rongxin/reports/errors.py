"""Report errors: each says what was wrong and what to do."""

from __future__ import annotations

from rongxin.access.errors import Forbidden
from rongxin.errors import NotFound


class PurposeNotAllowed(Forbidden):
    """The requester may not ask for a report for this purpose (purpose limitation, Z2)."""

    code = "purpose_not_allowed"


class UnknownProvider(NotFound):
    """No data provider with this code is in the catalog."""

    code = "unknown_provider"
