"""Monitoring errors: each says what was wrong and what to do."""

from __future__ import annotations

from rongxin.errors import Conflict, InvalidInput, NotFound


class RuleFileError(InvalidInput):
    """The abuse-rule file is malformed; the message names file, line and field."""

    code = "abuse_rules_invalid"


class AlertNotFound(NotFound):
    code = "alert_not_found"


class AlertTransitionError(Conflict):
    """The alert's status does not allow this step (e.g. acknowledging a closed alert)."""

    code = "invalid_alert_transition"


class InvalidScan(InvalidInput):
    code = "invalid_scan"
