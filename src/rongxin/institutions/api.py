"""Onboarding routes under /api/v1/institutions (M4, Z1).

Anyone may read the control set and file an application; operators assess, decide, suspend and
reinstate; operators and regulators see every institution, an institution sees only its own
(another's is "not found", never "forbidden": codes are not a probe).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from rongxin.access.deps import OperatorPrincipal
from rongxin.db.base import utcnow
from rongxin.deps import SessionDep
from rongxin.institutions import assessments, quota, service
from rongxin.institutions.controls import ControlSet
from rongxin.institutions.deps import ControlsDep, InstitutionViewer, StaffViewer, scope_of
from rongxin.institutions.errors import InstitutionNotFound
from rongxin.institutions.schemas import (
    ActivationResult,
    Approval,
    AssessmentRead,
    AssessmentStart,
    Decision,
    DueRead,
    EventRead,
    InstitutionApply,
    InstitutionRead,
    InstitutionStatus,
    QuotaRead,
    ScoresInput,
)
from rongxin.kit.pagination import Page

router = APIRouter(prefix="/institutions", tags=["institutions"])

APPLICANT = "applicant"


def _visible(principal_scope: str | None, code: str) -> None:
    if principal_scope is not None and principal_scope != code:
        raise InstitutionNotFound(f"no institution {code!r}", code=code)


def _moment(at: datetime | None) -> datetime:
    return service.ensure_aware(at) if at is not None else utcnow()


# ---- public -------------------------------------------------------------------------------------


@router.get("/controls", response_model=ControlSet)
async def get_controls(controls: ControlsDep) -> ControlSet:
    """The security controls institutions are assessed against (public)."""
    return controls


@router.post("/applications", response_model=InstitutionRead, status_code=status.HTTP_201_CREATED)
def submit_application(body: InstitutionApply, session: SessionDep) -> InstitutionRead:
    """File an application to connect (public); the operator then assesses it."""
    return service.apply(session, spec=body, actor=APPLICANT)


# ---- operators and regulators -------------------------------------------------------------------


@router.get("/due", response_model=list[DueRead])
def list_due(
    session: SessionDep,
    _staff: StaffViewer,
    at: Annotated[datetime | None, Query(description="Default: now.")] = None,
) -> list[DueRead]:
    """Connected institutions whose reassessment is due (expired ones included)."""
    return service.due_for_reassessment(session, at=_moment(at))


@router.post("/enforce-expiry", response_model=list[InstitutionRead])
def enforce_expiry(session: SessionDep, operator: OperatorPrincipal) -> list[InstitutionRead]:
    """Suspend every active institution whose security assessment has expired."""
    return service.enforce_expiry(session, at=utcnow(), actor=service.actor_of(operator))


@router.post("", response_model=InstitutionRead, status_code=status.HTTP_201_CREATED)
def apply_on_behalf(
    body: InstitutionApply, session: SessionDep, operator: OperatorPrincipal
) -> InstitutionRead:
    """Operators: file an application on an institution's behalf (or re-open a rejected or
    withdrawn one)."""
    return service.apply(session, spec=body, actor=service.actor_of(operator), allow_reapply=True)


# ---- reading ------------------------------------------------------------------------------------


@router.get("", response_model=Page[InstitutionRead])
def list_institutions(
    session: SessionDep,
    principal: InstitutionViewer,
    status: InstitutionStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[InstitutionRead]:
    """Institutions by status (an institution: only itself)."""
    return service.list_institutions(
        session, status=status, code=scope_of(principal), limit=limit, offset=offset
    )


@router.get("/{code}", response_model=InstitutionRead)
def get_institution(
    code: str, session: SessionDep, principal: InstitutionViewer
) -> InstitutionRead:
    _visible(scope_of(principal), code)
    return service.get_institution(session, code=code)


@router.get("/{code}/events", response_model=list[EventRead])
def list_events(code: str, session: SessionDep, principal: InstitutionViewer) -> list[EventRead]:
    """Every status change: from, to, actor, time, reason."""
    _visible(scope_of(principal), code)
    return service.list_events(session, code=code)


@router.get("/{code}/quota", response_model=QuotaRead)
def get_quota(code: str, session: SessionDep, principal: InstitutionViewer) -> QuotaRead:
    """Reads used today (China time) and what remains."""
    _visible(scope_of(principal), code)
    return quota.quota_usage(session, institution_code=code)


@router.get("/{code}/assessments", response_model=list[AssessmentRead])
def list_assessments(
    code: str, session: SessionDep, principal: InstitutionViewer
) -> list[AssessmentRead]:
    _visible(scope_of(principal), code)
    return assessments.list_assessments(session, code=code)


@router.get("/{code}/assessments/{assessment_id}", response_model=AssessmentRead)
def get_assessment(
    code: str, assessment_id: str, session: SessionDep, principal: InstitutionViewer
) -> AssessmentRead:
    _visible(scope_of(principal), code)
    return assessments.get_assessment(session, assessment_id=assessment_id, institution_code=code)


# ---- operators: assessing and deciding ----------------------------------------------------------


@router.post(
    "/{code}/assessments", response_model=AssessmentRead, status_code=status.HTTP_201_CREATED
)
def start_assessment(
    code: str,
    session: SessionDep,
    controls: ControlsDep,
    operator: OperatorPrincipal,
    body: AssessmentStart | None = None,
) -> AssessmentRead:
    """Start a security assessment against the control set in force."""
    return assessments.start_assessment(
        session,
        code=code,
        controls=controls,
        assessor=service.actor_of(operator),
        note=body.note if body else "",
    )


@router.put("/{code}/assessments/{assessment_id}/scores", response_model=AssessmentRead)
def record_scores(
    code: str,
    assessment_id: str,
    body: ScoresInput,
    session: SessionDep,
    operator: OperatorPrincipal,
) -> AssessmentRead:
    """Record (or replace) control scores with their evidence references."""
    return assessments.record_scores(
        session,
        assessment_id=assessment_id,
        institution_code=code,
        scores=body.scores,
        actor=service.actor_of(operator),
    )


@router.post("/{code}/assessments/{assessment_id}/approve", response_model=ActivationResult)
def approve(
    code: str,
    assessment_id: str,
    body: Approval,
    session: SessionDep,
    operator: OperatorPrincipal,
) -> ActivationResult:
    """Approve (four-eyes: not the assessor or a scorer). The first approval activates the
    institution and answers its API key token — shown only here."""
    return assessments.approve(
        session,
        assessment_id=assessment_id,
        institution_code=code,
        approver=service.actor_of(operator),
        approval=body,
    )


@router.post("/{code}/reject", response_model=InstitutionRead)
def reject(
    code: str, body: Decision, session: SessionDep, operator: OperatorPrincipal
) -> InstitutionRead:
    """Reject the pending application (or the reassessment in progress)."""
    return service.reject(session, code=code, actor=service.actor_of(operator), reason=body.reason)


@router.post("/{code}/suspend", response_model=InstitutionRead)
def suspend(
    code: str, body: Decision, session: SessionDep, operator: OperatorPrincipal
) -> InstitutionRead:
    """Suspend at once: the institution's next request is refused."""
    return service.suspend(session, code=code, actor=service.actor_of(operator), reason=body.reason)


@router.post("/{code}/reinstate", response_model=InstitutionRead)
def reinstate(
    code: str, body: Decision, session: SessionDep, operator: OperatorPrincipal
) -> InstitutionRead:
    """Re-activate a suspended institution whose assessment is still valid."""
    return service.reinstate(
        session, code=code, actor=service.actor_of(operator), reason=body.reason
    )


@router.post("/{code}/withdraw", response_model=InstitutionRead)
def withdraw(
    code: str, body: Decision, session: SessionDep, operator: OperatorPrincipal
) -> InstitutionRead:
    """The institution leaves the platform: its API keys are revoked."""
    return service.withdraw(
        session, code=code, actor=service.actor_of(operator), reason=body.reason
    )
