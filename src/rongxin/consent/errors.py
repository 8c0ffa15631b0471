"""Consent errors: each says what was wrong, which field, and what to do."""

from __future__ import annotations

from rongxin.errors import Conflict, InvalidInput, NotFound


class AuthorizationNotFound(NotFound):
    """No authorization with this id is visible to the caller (another party's is not found)."""

    code = "authorization_not_found"


class InvalidAuthorizationRequest(InvalidInput):
    """A request names an unknown or public item, a wrong date order …; ``details['field']``."""

    code = "invalid_authorization_request"


class ExceedsPurposeTemplate(InvalidInput):
    """The requested terms go beyond what the purpose template allows; ``details['field']``."""

    code = "exceeds_purpose_template"


class InvalidTransition(Conflict):
    """The authorization is not in a state that allows this action (approve a revoked one …)."""

    code = "invalid_transition"


class StaleRiskNotice(Conflict):
    """The approval echoed a risk-notice hash other than the notice in force: show it again."""

    code = "stale_risk_notice"


class ConsentDataError(InvalidInput):
    """A purpose-template or risk-notice file is malformed; the message names file and line."""

    code = "consent_data_invalid"
