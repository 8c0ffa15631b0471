"""Onboarding errors: each says what was wrong and what to do."""

from __future__ import annotations

from typing import Any

from rongxin.access.errors import Forbidden
from rongxin.errors import Conflict, InvalidInput, NotFound, RongxinError


class InstitutionNotFound(NotFound):
    code = "institution_not_found"


class AssessmentNotFound(NotFound):
    code = "assessment_not_found"


class ControlFileError(InvalidInput):
    """The security-control file is malformed; the message names file, line and field."""

    code = "security_controls_invalid"


class InvalidTransition(Conflict):
    """The institution's status does not allow this step (e.g. reinstating an active one)."""

    code = "invalid_transition"


class AssessmentNotPassed(Conflict):
    """Approval refused: the total is below the threshold, or a mandatory control failed."""

    code = "assessment_not_passed"


class FourEyesViolation(Forbidden):
    """The approver also assessed or scored the assessment (四眼原则: two different people)."""

    code = "four_eyes"


class InstitutionNotActive(Forbidden):
    """The institution is not onboarded, or is suspended, rejected or withdrawn."""

    code = "institution_not_active"


class QuotaExceeded(RongxinError):
    """The institution used up today's reads (China time); answered 429 with Retry-After."""

    status = 429
    code = "quota_exceeded"

    def __init__(self, message: str, *, retry_after: int, **details: Any) -> None:
        super().__init__(message, **details)
        self.headers = {"Retry-After": str(max(1, retry_after))}
