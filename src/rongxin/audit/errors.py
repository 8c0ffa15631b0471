"""Audit errors: each says what was wrong and what to do."""

from __future__ import annotations

from rongxin.errors import InvalidInput, NotFound


class UnknownProvider(NotFound):
    """No data provider with this code is in the catalog."""

    code = "unknown_provider"


class InvalidAuditQuery(InvalidInput):
    """A filter of an access-log query is not valid."""

    code = "invalid_audit_query"
