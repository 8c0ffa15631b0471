"""Security assessments (Z1): start against the control set, score with evidence, approve.

An assessment keeps a copy of the control set it was started with; scores and the decision are
evaluated against that copy, so a new control-file version never changes a running or past
assessment. Approval needs a passing evaluation (every control scored, total ≥ threshold, every
mandatory control at its pass score) and an approver who neither started nor scored the
assessment (four-eyes). Approving the first assessment activates the institution and issues its
API key (the token is in the answer, once); approving a reassessment renews the validity.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind
from rongxin.db.base import utcnow
from rongxin.errors import Conflict, InvalidInput
from rongxin.institutions import service
from rongxin.institutions.controls import ControlSet, Evaluation, evaluate
from rongxin.institutions.errors import (
    AssessmentNotFound,
    AssessmentNotPassed,
    FourEyesViolation,
    InvalidTransition,
)
from rongxin.institutions.models import SecurityAssessment, SecurityAssessmentScore
from rongxin.institutions.schemas import (
    ActivationResult,
    Approval,
    AssessmentRead,
    AssessmentStatus,
    InstitutionRead,
    InstitutionStatus,
    ScoreInput,
    ScoreRead,
)
from rongxin.logging import get_logger

log = get_logger(__name__)

S = InstitutionStatus
ASSESSABLE = (S.applied, S.under_assessment, S.active, S.suspended)


def control_set_of(assessment: SecurityAssessment) -> ControlSet:
    """The control set an assessment was started with."""
    return ControlSet.model_validate(assessment.controls)


def _scores(session: Session, assessment_id: str) -> list[SecurityAssessmentScore]:
    return list(
        session.scalars(
            select(SecurityAssessmentScore)
            .where(SecurityAssessmentScore.assessment_id == assessment_id)
            .order_by(SecurityAssessmentScore.control_code)
        )
    )


def _evaluation(assessment: SecurityAssessment, rows: list[SecurityAssessmentScore]) -> Evaluation:
    return evaluate(control_set_of(assessment), {r.control_code: r.score for r in rows})


def _read(session: Session, assessment: SecurityAssessment) -> AssessmentRead:
    rows = _scores(session, assessment.id)
    return AssessmentRead(
        id=assessment.id,
        institution_code=assessment.institution_code,
        controls_version=assessment.controls_version,
        status=AssessmentStatus(assessment.status),
        assessor=assessment.assessor,
        approver=assessment.approver,
        started_at=assessment.started_at,
        decided_at=assessment.decided_at,
        decision_reason=assessment.decision_reason,
        total_score=assessment.total_score,
        pass_threshold=assessment.pass_threshold,
        valid_until=assessment.valid_until,
        reassessment_due_date=assessment.reassessment_due_date,
        scores=[ScoreRead.model_validate(r) for r in rows],
        evaluation=_evaluation(assessment, rows),
    )


def _assessment(
    session: Session,
    assessment_id: str,
    institution_code: str | None = None,
    *,
    for_update: bool = False,
) -> SecurityAssessment:
    found = session.get(SecurityAssessment, assessment_id, with_for_update=for_update)
    if found is None or (
        institution_code is not None and found.institution_code != institution_code
    ):
        raise AssessmentNotFound(
            f"no security assessment {assessment_id!r}"
            + (f" of institution {institution_code}" if institution_code else ""),
            assessment_id=assessment_id,
        )
    return found


def _require_in_progress(assessment: SecurityAssessment) -> None:
    if assessment.status != AssessmentStatus.in_progress.value:
        raise Conflict(
            f"security assessment {assessment.id} is {assessment.status}, not in progress; "
            "start a new one to assess again",
            assessment_id=assessment.id,
        )


# ---- start, score -------------------------------------------------------------------------------


def start_assessment(
    session: Session,
    *,
    code: str,
    controls: ControlSet,
    assessor: str,
    note: str = "",
    at: datetime | None = None,
) -> AssessmentRead:
    """Start assessing ``code`` against ``controls`` (one assessment in progress at a time).

    An applied institution moves to ``under_assessment``; an active or suspended one keeps its
    status while it is reassessed.
    """
    at = at or utcnow()
    inst = service.institution_row(session, code, for_update=True)
    status = InstitutionStatus(inst.status)
    if status not in ASSESSABLE:
        raise InvalidTransition(
            f"institution {code} is {status.value}: it must apply again before an assessment",
            code=code,
        )
    pending = service.assessment_in_progress(session, code)
    if pending is not None:
        raise Conflict(
            f"institution {code} already has assessment {pending.id} in progress",
            assessment_id=pending.id,
        )
    assessment = SecurityAssessment(
        id=uuid.uuid4().hex,
        institution_code=code,
        controls_version=controls.version,
        controls=controls.model_dump(mode="json"),
        status=AssessmentStatus.in_progress.value,
        assessor=assessor,
        note=note,
        started_at=at,
        total_score=0.0,
        pass_threshold=controls.pass_threshold,
    )
    session.add(assessment)
    if status is S.applied:
        service.transition(
            session,
            inst,
            S.under_assessment,
            actor=assessor,
            reason=f"security assessment {assessment.id} started",
            at=at,
        )
    session.flush()
    log.info("assessment_started", institution=code, assessment_id=assessment.id)
    return _read(session, assessment)


def record_scores(
    session: Session,
    *,
    assessment_id: str,
    scores: list[ScoreInput],
    actor: str,
    institution_code: str | None = None,
    at: datetime | None = None,
) -> AssessmentRead:
    """Record (or replace) the score and evidence of each control in ``scores``."""
    at = at or utcnow()
    assessment = _assessment(session, assessment_id, institution_code, for_update=True)
    _require_in_progress(assessment)
    known = control_set_of(assessment).controls()
    seen: set[str] = set()
    for index, entry in enumerate(scores):
        if entry.control_code not in known:
            raise InvalidInput(
                f"scores[{index}].control_code: unknown control {entry.control_code!r} in "
                f"control set {assessment.controls_version}",
                field=f"scores[{index}].control_code",
            )
        if entry.control_code in seen:
            raise InvalidInput(
                f"scores[{index}].control_code: control {entry.control_code} is scored twice",
                field=f"scores[{index}].control_code",
            )
        seen.add(entry.control_code)
    existing = {r.control_code: r for r in _scores(session, assessment_id)}
    for entry in scores:
        row = existing.get(entry.control_code)
        if row is None:
            row = SecurityAssessmentScore(
                assessment_id=assessment_id, control_code=entry.control_code
            )
            session.add(row)
            existing[entry.control_code] = row
        row.score = entry.score
        row.evidence_ref = entry.evidence_ref
        row.note = entry.note
        row.scored_by = actor
        row.scored_at = at
    session.flush()
    assessment.total_score = _evaluation(assessment, list(existing.values())).total_score
    session.flush()
    return _read(session, assessment)


# ---- decide -------------------------------------------------------------------------------------


def approve(
    session: Session,
    *,
    assessment_id: str,
    approver: str,
    approval: Approval,
    institution_code: str | None = None,
    at: datetime | None = None,
) -> ActivationResult:
    """Approve a passing assessment (four-eyes) and activate or renew the institution."""
    at = at or utcnow()
    # Row locks (PostgreSQL), institution before assessment as everywhere: two approvals of
    # one assessment cannot both issue a key.
    code = _assessment(session, assessment_id, institution_code).institution_code
    inst = service.institution_row(session, code, for_update=True)
    assessment = _assessment(session, assessment_id, institution_code, for_update=True)
    _require_in_progress(assessment)
    rows = _scores(session, assessment_id)
    involved = {assessment.assessor} | {r.scored_by for r in rows}
    if approver in involved:
        raise FourEyesViolation(
            f"the approver {approver} also assessed or scored assessment {assessment_id}; "
            "another person must approve (four-eyes)",
            approver=approver,
        )
    evaluation = _evaluation(assessment, rows)
    if not evaluation.passed:
        raise AssessmentNotPassed(
            f"assessment {assessment_id} cannot be approved: " + "; ".join(evaluation.problems),
            problems=evaluation.problems,
            failed_mandatory=evaluation.failed_mandatory,
            missing=evaluation.missing,
            total_score=evaluation.total_score,
            pass_threshold=evaluation.pass_threshold,
        )
    controls = control_set_of(assessment)
    valid_until = at + timedelta(days=controls.validity_days)
    due = service.china_day(valid_until) - timedelta(days=controls.reassessment_lead_days)
    assessment.status = AssessmentStatus.approved.value
    assessment.approver = approver
    assessment.decided_at = at
    assessment.decision_reason = "approved"
    assessment.total_score = evaluation.total_score
    assessment.valid_until = valid_until
    assessment.reassessment_due_date = due
    inst.assessment_valid_until = valid_until
    inst.reassessment_due_date = due
    inst.allowed_purposes = [p.value for p in approval.allowed_purposes]
    inst.daily_quota = approval.daily_quota
    if approval.regions is not None:
        inst.regions = approval.regions
    api_key = None
    if InstitutionStatus(inst.status) is S.under_assessment:
        service.transition(
            session,
            inst,
            S.active,
            actor=approver,
            reason=f"security assessment {assessment_id} approved "
            f"(score {evaluation.total_score:g} of 100)",
            at=at,
        )
        inst.activated_at = at
        api_key = access_service.create_api_key(
            session,
            kind=PrincipalKind.institution,
            code=inst.code,
            label=f"issued at activation (assessment {assessment_id})",
        )
    session.flush()
    log.info("assessment_approved", institution=inst.code, assessment_id=assessment_id)
    return ActivationResult(
        institution=InstitutionRead.model_validate(inst),
        assessment=_read(session, assessment),
        api_key=api_key,
    )


# ---- reading ------------------------------------------------------------------------------------


def get_assessment(
    session: Session, *, assessment_id: str, institution_code: str | None = None
) -> AssessmentRead:
    return _read(session, _assessment(session, assessment_id, institution_code))


def list_assessments(session: Session, *, code: str) -> list[AssessmentRead]:
    """The institution's assessments, newest first."""
    service.institution_row(session, code)
    rows = session.scalars(
        select(SecurityAssessment)
        .where(SecurityAssessment.institution_code == code)
        .order_by(SecurityAssessment.started_at.desc(), SecurityAssessment.id)
    )
    return [_read(session, a) for a in rows]


def current_assessment(session: Session, *, code: str) -> AssessmentRead | None:
    """The assessment in progress, if any."""
    pending = service.assessment_in_progress(session, code)
    return _read(session, pending) if pending is not None else None


def assessment_controls(session: Session, *, assessment_id: str) -> ControlSet:
    """The control set an assessment is made against (its copy, not the file in force)."""
    return control_set_of(_assessment(session, assessment_id))
