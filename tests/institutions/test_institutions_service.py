"""Onboarding services: lifecycle, approval rules, suspension, expiry and quota."""

from __future__ import annotations

from datetime import timedelta

import pytest
from institution_factories import (
    APPROVER,
    ASSESSOR,
    T0,
    application,
    full_scores,
    onboard,
)
from pydantic import ValidationError
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.errors import Unauthenticated
from rongxin.access.schemas import Purpose
from rongxin.errors import Conflict, InvalidInput
from rongxin.institutions import assessments, quota, service
from rongxin.institutions.controls import load_controls
from rongxin.institutions.errors import (
    AssessmentNotPassed,
    FourEyesViolation,
    InstitutionNotActive,
    InvalidTransition,
    QuotaExceeded,
)
from rongxin.institutions.schemas import (
    Approval,
    AssessmentStatus,
    InstitutionStatus,
    ScoreInput,
)

APPROVAL = Approval(allowed_purposes=[Purpose.pre_loan, Purpose.in_loan], daily_quota=50)


def _started(session: Session, code: str = "bank-fz", seed: int = 11) -> str:
    service.apply(session, spec=application(code, seed=seed), actor="applicant", at=T0)
    return assessments.start_assessment(
        session, code=code, controls=load_controls(), assessor=ASSESSOR, at=T0
    ).id


# ---- the whole lifecycle ------------------------------------------------------------------------


def test_lifecycle_apply_assess_approve_suspend_reinstate(session: Session) -> None:
    applied = service.apply(session, spec=application(), actor="applicant", at=T0)
    assert applied.status is InstitutionStatus.applied
    assert applied.allowed_purposes == []
    assert applied.requested_purposes == [Purpose.pre_loan, Purpose.post_loan]
    assert not service.is_active(session, "bank-fz", at=T0)

    started = assessments.start_assessment(
        session, code="bank-fz", controls=load_controls(), assessor=ASSESSOR, at=T0
    )
    assert started.status is AssessmentStatus.in_progress
    assert started.controls_version == load_controls().version
    assert started.evaluation.scored == 0
    assert service.institution_status(session, "bank-fz") is InstitutionStatus.under_assessment

    scored = assessments.record_scores(
        session, assessment_id=started.id, scores=full_scores(), actor=ASSESSOR, at=T0
    )
    assert scored.total_score == 100.0
    assert scored.evaluation.passed
    assert {s.evidence_ref for s in scored.scores} >= {"EV-2026-001"}

    result = assessments.approve(
        session, assessment_id=started.id, approver=APPROVER, approval=APPROVAL, at=T0
    )
    inst = result.institution
    assert inst.status is InstitutionStatus.active
    assert inst.allowed_purposes == [Purpose.pre_loan, Purpose.in_loan]
    assert inst.daily_quota == 50
    assert inst.activated_at == T0
    assert inst.assessment_valid_until == T0 + timedelta(days=365)
    assert inst.reassessment_due_date == (T0 + timedelta(days=365 - 60)).date()
    assert result.assessment.approver == APPROVER
    assert result.assessment.status is AssessmentStatus.approved
    assert result.api_key is not None
    principal = access_service.authenticate(session, token=result.api_key.token)
    assert (principal.kind.value, principal.code) == ("institution", "bank-fz")
    assert service.is_active(session, "bank-fz", at=T0)
    assert service.allowed_purposes(session, "bank-fz") == {Purpose.pre_loan, Purpose.in_loan}

    later = T0 + timedelta(days=3)
    suspended = service.suspend(
        session, code="bank-fz", actor="operator", reason="abuse alert", at=later
    )
    assert suspended.status is InstitutionStatus.suspended
    assert not service.is_active(session, "bank-fz", at=later)  # at once
    reinstated = service.reinstate(
        session, code="bank-fz", actor="operator", reason="cleared", at=later
    )
    assert reinstated.status is InstitutionStatus.active
    assert service.is_active(session, "bank-fz", at=later)

    events = service.list_events(session, code="bank-fz")
    steps = [(e.from_status, e.to_status) for e in events]
    assert steps == [
        (None, InstitutionStatus.applied),
        (InstitutionStatus.applied, InstitutionStatus.under_assessment),
        (InstitutionStatus.under_assessment, InstitutionStatus.active),
        (InstitutionStatus.active, InstitutionStatus.suspended),
        (InstitutionStatus.suspended, InstitutionStatus.active),
    ]
    assert events[3].reason == "abuse alert"
    assert events[3].actor == "operator"
    assert events[2].actor == APPROVER


def test_unknown_code_is_not_active(session: Session) -> None:
    assert service.is_active(session, "never-onboarded") is False
    assert service.institution_status(session, "never-onboarded") is None
    assert service.allowed_purposes(session, "never-onboarded") == frozenset()
    with pytest.raises(InstitutionNotActive, match="not onboarded"):
        service.require_active(session, "never-onboarded")


def test_reject_application_and_reapply(session: Session) -> None:
    _started(session)
    rejected = service.reject(
        session, code="bank-fz", actor="operator", reason="licence not verified", at=T0
    )
    assert rejected.status is InstitutionStatus.rejected
    assessed = assessments.list_assessments(session, code="bank-fz")
    assert assessed[0].status is AssessmentStatus.rejected
    assert assessed[0].decision_reason == "licence not verified"
    with pytest.raises(InvalidTransition, match="must apply again"):
        assessments.start_assessment(
            session, code="bank-fz", controls=load_controls(), assessor=ASSESSOR
        )
    with pytest.raises(Conflict, match="an operator can re-open it"):
        service.apply(session, spec=application(), actor="applicant")
    again = service.apply(session, spec=application(), actor="operator", allow_reapply=True)
    assert again.status is InstitutionStatus.applied


def test_duplicate_code_and_uscc_are_conflicts(session: Session) -> None:
    service.apply(session, spec=application(), actor="applicant", at=T0)
    with pytest.raises(Conflict, match="already exists"):
        service.apply(session, spec=application(seed=12), actor="applicant")
    with pytest.raises(Conflict, match="already on file as institution bank-fz"):
        service.apply(session, spec=application("bank-xm", uscc=application().uscc), actor="x")


def test_withdraw_revokes_keys_and_cancels_assessment(session: Session) -> None:
    result = onboard(session, at=T0)
    assert result.api_key is not None
    assessments.start_assessment(
        session, code="bank-fz", controls=load_controls(), assessor=ASSESSOR, at=T0
    )
    left = service.withdraw(session, code="bank-fz", actor="operator", reason="exit", at=T0)
    assert left.status is InstitutionStatus.withdrawn
    assert left.assessment_valid_until is None
    with pytest.raises(Unauthenticated):
        access_service.authenticate(session, token=result.api_key.token)
    statuses = {a.status for a in assessments.list_assessments(session, code="bank-fz")}
    assert statuses == {AssessmentStatus.approved, AssessmentStatus.cancelled}
    with pytest.raises(InvalidTransition, match="withdrawn: it cannot become suspended"):
        service.suspend(session, code="bank-fz", actor="operator", reason="x")


# ---- approval rules -----------------------------------------------------------------------------


def test_approve_refused_below_threshold(session: Session) -> None:
    assessment_id = _started(session)
    controls = load_controls()
    partial = {c.code: 50 for c in controls.controls().values() if not c.mandatory}
    assessments.record_scores(
        session,
        assessment_id=assessment_id,
        scores=full_scores(controls, **partial),
        actor=ASSESSOR,
    )
    with pytest.raises(AssessmentNotPassed) as caught:
        assessments.approve(
            session, assessment_id=assessment_id, approver=APPROVER, approval=APPROVAL
        )
    assert "below the pass threshold 80" in caught.value.message
    assert caught.value.details["failed_mandatory"] == []
    assert caught.value.status == 409
    assert service.institution_status(session, "bank-fz") is InstitutionStatus.under_assessment


def test_approve_refused_with_failed_mandatory_control(session: Session) -> None:
    assessment_id = _started(session)
    assessments.record_scores(
        session,
        assessment_id=assessment_id,
        scores=full_scores(net_transport_encryption=50),
        actor=ASSESSOR,
    )
    with pytest.raises(AssessmentNotPassed) as caught:
        assessments.approve(
            session, assessment_id=assessment_id, approver=APPROVER, approval=APPROVAL
        )
    message = caught.value.message
    assert "mandatory control net_transport_encryption (通信传输加密) scored 50" in message
    assert "needs at least 100" in message
    assert caught.value.details["failed_mandatory"] == ["net_transport_encryption"]


def test_approve_refused_when_controls_are_missing(session: Session) -> None:
    assessment_id = _started(session)
    assessments.record_scores(
        session, assessment_id=assessment_id, scores=full_scores()[:3], actor=ASSESSOR
    )
    with pytest.raises(AssessmentNotPassed, match=r"controls are not scored yet: .*ir_reporting"):
        assessments.approve(
            session, assessment_id=assessment_id, approver=APPROVER, approval=APPROVAL
        )


@pytest.mark.parametrize("approver", [ASSESSOR, "console:scorer-chen"])
def test_four_eyes(session: Session, approver: str) -> None:
    assessment_id = _started(session)
    scores = full_scores()
    assessments.record_scores(
        session, assessment_id=assessment_id, scores=scores[:10], actor=ASSESSOR
    )
    assessments.record_scores(
        session, assessment_id=assessment_id, scores=scores[10:], actor="console:scorer-chen"
    )
    with pytest.raises(FourEyesViolation, match="four-eyes") as caught:
        assessments.approve(
            session, assessment_id=assessment_id, approver=approver, approval=APPROVAL
        )
    assert caught.value.status == 403
    done = assessments.approve(
        session, assessment_id=assessment_id, approver=APPROVER, approval=APPROVAL
    )
    assert done.institution.status is InstitutionStatus.active


def test_scores_name_bad_controls(session: Session) -> None:
    assessment_id = _started(session)
    bad = [ScoreInput(control_code="no_such_control", score=100, evidence_ref="EV-1")]
    with pytest.raises(InvalidInput, match=r"scores\[0\].control_code: unknown control"):
        assessments.record_scores(session, assessment_id=assessment_id, scores=bad, actor=ASSESSOR)
    twice = full_scores()[:1] * 2
    with pytest.raises(InvalidInput, match="scored twice"):
        assessments.record_scores(
            session, assessment_id=assessment_id, scores=twice, actor=ASSESSOR
        )
    with pytest.raises(ValidationError, match="evidence_ref"):
        ScoreInput(control_code="ir_plan", score=100, evidence_ref="")
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        ScoreInput(control_code="ir_plan", score=101, evidence_ref="EV-1")


def test_application_validation_names_the_field() -> None:
    with pytest.raises(ValidationError, match="uscc") as caught:
        application(uscc="91350100XXXXXXXXXX")
    assert "not a valid USCC" in str(caught.value)
    with pytest.raises(ValidationError, match="financing only"):
        application(requested_purposes=["self_query"])
    with pytest.raises(ValidationError, match="unknown GB/T 2260 region codes"):
        application(regions=["999999"])
    with pytest.raises(ValidationError, match="personal ID number"):
        application(contact_department="联系人 11010519491231002X")
    assert application(regions=["000000"]).regions == ["000000"]


def test_one_assessment_in_progress_at_a_time(session: Session) -> None:
    assessment_id = _started(session)
    with pytest.raises(Conflict, match=f"already has assessment {assessment_id}"):
        assessments.start_assessment(
            session, code="bank-fz", controls=load_controls(), assessor=ASSESSOR
        )


def test_reassessment_renews_validity_without_a_new_key(session: Session) -> None:
    onboard(session, at=T0)
    later = T0 + timedelta(days=320)
    again = assessments.start_assessment(
        session, code="bank-fz", controls=load_controls(), assessor=ASSESSOR, at=later
    )
    assert service.institution_status(session, "bank-fz") is InstitutionStatus.active
    assessments.record_scores(
        session, assessment_id=again.id, scores=full_scores(), actor=ASSESSOR, at=later
    )
    renewed = assessments.approve(
        session, assessment_id=again.id, approver=APPROVER, approval=APPROVAL, at=later
    )
    assert renewed.api_key is None
    assert renewed.institution.assessment_valid_until == later + timedelta(days=365)
    assert renewed.institution.status is InstitutionStatus.active


# ---- expiry -------------------------------------------------------------------------------------


def test_expiry_due_list_and_enforcement(session: Session) -> None:
    onboard(session, "bank-fz", seed=11, at=T0)
    onboard(session, "bank-xm", seed=12, at=T0 + timedelta(days=100))
    before_due = T0 + timedelta(days=300)
    assert service.due_for_reassessment(session, at=before_due) == []
    due_day = T0 + timedelta(days=305)
    due = service.due_for_reassessment(session, at=due_day)
    assert [(d.code, d.expired) for d in due] == [("bank-fz", False)]
    assert service.enforce_expiry(session, at=due_day) == []

    expiry = T0 + timedelta(days=365)
    assert not service.is_active(session, "bank-fz", at=expiry)  # before enforcement, too
    assert service.is_active(session, "bank-xm", at=expiry)
    suspended = service.enforce_expiry(session, at=expiry)
    assert [i.code for i in suspended] == ["bank-fz"]
    assert service.institution_status(session, "bank-fz") is InstitutionStatus.suspended
    last = service.list_events(session, code="bank-fz")[-1]
    assert (last.actor, last.to_status) == ("system", InstitutionStatus.suspended)
    assert "security assessment expired" in last.reason
    assert [d.expired for d in service.due_for_reassessment(session, at=expiry)] == [True]
    with pytest.raises(InvalidTransition, match="approve a new assessment first"):
        service.reinstate(session, code="bank-fz", actor="operator", reason="x", at=expiry)


# ---- quota --------------------------------------------------------------------------------------


def test_quota_per_china_day_then_429(session: Session) -> None:
    onboard(session, at=T0, daily_quota=3)
    assert quota.consume_quota(session, institution_code="bank-fz", at=T0) == 1
    assert quota.consume_quota(session, institution_code="bank-fz", n=2, at=T0) == 3
    with pytest.raises(QuotaExceeded) as caught:
        quota.consume_quota(session, institution_code="bank-fz", at=T0)
    error = caught.value
    assert error.status == 429
    assert error.code == "quota_exceeded"
    assert error.details["used"] == 3
    assert error.headers is not None
    assert int(error.headers["Retry-After"]) == 14 * 3600 + 1  # 10:00 → midnight China time
    usage = quota.quota_usage(session, institution_code="bank-fz", at=T0)
    assert (usage.used, usage.remaining) == (3, 0)
    # 16:00 UTC is already the next day in China
    next_day = T0.replace(hour=16)
    assert quota.consume_quota(session, institution_code="bank-fz", at=next_day) == 1
    with pytest.raises(QuotaExceeded):
        quota.consume_quota(session, institution_code="bank-fz", n=4, at=next_day)
    with pytest.raises(InvalidInput, match="at least 1"):
        quota.consume_quota(session, institution_code="bank-fz", n=0, at=next_day)


def test_a_batch_of_reads_counts_what_the_quota_leaves(session: Session) -> None:
    """The group-commit writer counts a batch of reads at once: all of them when the quota
    allows, else the first ones up to the quota, and the refusal for the rest."""
    onboard(session, at=T0, daily_quota=5)
    assert quota.consume_up_to(session, institution_code="bank-fz", n=3, at=T0) == (3, None)
    counted, refusal = quota.consume_up_to(session, institution_code="bank-fz", n=4, at=T0)
    assert counted == 2
    assert isinstance(refusal, QuotaExceeded)
    assert refusal.details["used"] == 5
    assert quota.quota_usage(session, institution_code="bank-fz", at=T0).used == 5
    counted, refusal = quota.consume_up_to(session, institution_code="bank-fz", n=1, at=T0)
    assert (counted, type(refusal)) == (0, QuotaExceeded)
    assert quota.quota_usage(session, institution_code="bank-fz", at=T0).used == 5


def test_quota_refused_for_a_suspended_institution(session: Session) -> None:
    onboard(session, at=T0)
    service.suspend(session, code="bank-fz", actor="operator", reason="x", at=T0)
    with pytest.raises(InstitutionNotActive, match="suspended"):
        quota.consume_quota(session, institution_code="bank-fz", at=T0)
