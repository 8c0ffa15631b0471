"""The authorization lifecycle and the active-authorization check (services, no HTTP)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from consent_factories import (
    BANK,
    FIRM,
    FIRM_ACTOR,
    KEY,
    OTHER_BANK,
    OTHER_FIRM,
    T0,
    approve,
    create_active,
    create_request,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from rongxin.access.schemas import Principal, PrincipalKind, Purpose
from rongxin.consent import lifecycle, service
from rongxin.consent.errors import (
    AuthorizationNotFound,
    ExceedsPurposeTemplate,
    InvalidAuthorizationRequest,
    InvalidTransition,
    StaleRiskNotice,
)
from rongxin.consent.models import Authorization, AuthorizationEvent
from rongxin.consent.notice import load_notices
from rongxin.consent.schemas import AuthorizationStatus


def _active(session: Session, *, item: str = "tax_payment", mode: str = "view", **kw: Any) -> Any:
    params: dict[str, Any] = {
        "institution_code": BANK,
        "uscc": FIRM,
        "item_code": item,
        "purpose": Purpose.pre_loan,
        "mode": mode,
        "at": T0 + timedelta(hours=1),
    }
    params.update(kw)
    return service.active_authorization(session, **params)


# ---- the whole lifecycle ------------------------------------------------------------------------


def test_full_lifecycle_request_approve_pause_resume_revoke(session: Session) -> None:
    req = create_request(session)
    assert req.status is AuthorizationStatus.requested
    assert req.items == ["social_insurance", "tax_payment"]
    assert req.requested_by == "k-bank_a"
    assert req.template_version == "2026.1"
    assert _active(session) is None  # not approved yet

    active = approve(session, req, now=T0 + timedelta(minutes=10))
    assert active.status is AuthorizationStatus.active
    assert active.decided_by == "k-firm"
    notice = load_notices().in_force(T0)
    assert active.risk_notice_sha256 == notice.sha256
    assert active.risk_notice_version == notice.version
    found = _active(session)
    assert found is not None
    assert found.id == req.id

    at = T0 + timedelta(days=1)
    paused = lifecycle.pause(session, authorization_id=req.id, uscc=FIRM, actor=FIRM_ACTOR, now=at)
    assert paused.status is AuthorizationStatus.paused
    assert _active(session, at=at) is None
    lifecycle.resume(session, authorization_id=req.id, uscc=FIRM, actor=FIRM_ACTOR, now=at)
    assert _active(session, at=at) is not None
    lifecycle.revoke(
        session, authorization_id=req.id, uscc=FIRM, actor=FIRM_ACTOR, now=at, reason="loan done"
    )

    detail = service.get_authorization(session, authorization_id=req.id, now=at)
    assert detail.status is AuthorizationStatus.revoked
    transitions = [(e.action.value, e.from_status, e.to_status.value) for e in detail.events]
    assert transitions == [
        ("request", None, "requested"),
        ("approve", "requested", "active"),
        ("pause", "active", "paused"),
        ("resume", "paused", "active"),
        ("revoke", "active", "revoked"),
    ]
    assert detail.events[0].actor_kind == "institution"
    assert detail.events[0].actor_code == BANK
    assert detail.events[-1].actor_kind == "enterprise"
    assert detail.events[-1].actor_id == "k-firm"
    assert detail.events[-1].reason == "loan done"


def test_revoke_denies_at_once(session: Session) -> None:
    grant = create_active(session)
    at = T0 + timedelta(minutes=1)
    assert _active(session, at=at) is not None
    lifecycle.revoke(session, authorization_id=grant.id, uscc=FIRM, actor=FIRM_ACTOR, now=at)
    assert _active(session, at=at) is None
    assert _active(session, at=at + timedelta(days=1)) is None


def test_reject_ends_a_request(session: Session) -> None:
    req = create_request(session)
    out = lifecycle.reject(
        session, authorization_id=req.id, uscc=FIRM, actor=FIRM_ACTOR, now=T0, reason="不需要"
    )
    assert out.status is AuthorizationStatus.rejected
    assert out.decided_by == "k-firm"
    with pytest.raises(InvalidTransition, match="is rejected; only a requested"):
        approve(session, req)
    assert _active(session) is None


def test_expiry_is_immediate_by_moving_at(session: Session) -> None:
    grant = create_active(session, valid_until=T0 + timedelta(days=10))
    assert _active(session, at=T0 + timedelta(days=10) - timedelta(seconds=1)) is not None
    assert _active(session, at=T0 + timedelta(days=10)) is None
    later = T0 + timedelta(days=11)
    read = service.get_authorization(session, authorization_id=grant.id, now=later)
    assert read.status is AuthorizationStatus.expired
    expired = service.list_authorizations(
        session, now=later, uscc=FIRM, statuses=[AuthorizationStatus.expired]
    )
    assert [a.id for a in expired.items] == [grant.id]
    still_active = service.list_authorizations(
        session, now=later, uscc=FIRM, statuses=[AuthorizationStatus.active]
    )
    assert still_active.total == 0
    with pytest.raises(InvalidTransition, match="is expired"):
        lifecycle.revoke(session, authorization_id=grant.id, uscc=FIRM, actor=FIRM_ACTOR, now=later)


def test_expire_due_records_events_once(session: Session) -> None:
    ends = T0 + timedelta(days=5)
    grant = create_active(session, valid_until=ends)
    pending = create_request(session, valid_until=ends)
    lasting = create_active(session, valid_until=T0 + timedelta(days=25))
    assert lifecycle.expire_due(session, now=ends - timedelta(seconds=1)) == []
    done = lifecycle.expire_due(session, now=ends + timedelta(hours=1))
    assert sorted(done) == sorted([grant.id, pending.id])
    assert lifecycle.expire_due(session, now=ends + timedelta(hours=2)) == []
    row = session.get(Authorization, grant.id)
    assert row is not None
    assert row.status == "expired"
    events = service.list_events(session, authorization_id=grant.id)
    assert events[-1].action.value == "expire"
    assert events[-1].from_status is AuthorizationStatus.active
    assert events[-1].actor_kind == "system"
    assert events[-1].at == ends
    kept = service.get_authorization(session, authorization_id=lasting.id, now=ends)
    assert kept.status is AuthorizationStatus.active


# ---- what an active authorization covers --------------------------------------------------------


def test_scope_item_purpose_institution_and_window(session: Session) -> None:
    create_active(session, valid_from=T0 + timedelta(days=1), valid_until=T0 + timedelta(days=5))
    inside = T0 + timedelta(days=2)
    assert _active(session, at=inside) is not None
    assert _active(session, at=T0 + timedelta(hours=12)) is None  # before valid_from
    assert _active(session, at=inside, item="housing_fund") is None  # not authorized
    assert _active(session, at=inside, purpose=Purpose.post_loan) is None
    assert _active(session, at=inside, institution_code=OTHER_BANK) is None
    assert _active(session, at=inside, uscc=OTHER_FIRM) is None


def test_verify_only_allows_only_verification(session: Session) -> None:
    create_active(session, access_mode="verify_only")
    assert _active(session, mode="verify") is not None
    assert _active(session, mode="view") is None


def test_view_allows_view_and_verify(session: Session) -> None:
    create_active(session, access_mode="view")
    assert _active(session, mode="view") is not None
    assert _active(session, mode="verify") is not None
    with pytest.raises(ValueError, match="mode must be one of"):
        _active(session, mode="interface")


def test_periodic_needs_reconfirmation(session: Session) -> None:
    grant = create_active(
        session,
        purpose="post_loan",
        access_mode="periodic",
        fetch_frequency="monthly",
        valid_until=T0 + timedelta(days=365),
        data_to_date=date(2027, 3, 1),
    )
    assert grant.reconfirm_days == 90
    assert grant.reconfirm_due_at == T0 + timedelta(days=90)
    post = {"purpose": Purpose.post_loan}
    assert _active(session, at=T0 + timedelta(days=89), **post) is not None
    overdue = T0 + timedelta(days=91)
    assert _active(session, at=overdue, **post) is None
    read = service.get_authorization(session, authorization_id=grant.id, now=overdue)
    assert read.needs_reconfirmation
    lifecycle.reconfirm(
        session, authorization_id=grant.id, uscc=FIRM, actor=FIRM_ACTOR, now=overdue
    )
    assert _active(session, at=overdue, **post) is not None
    assert _active(session, at=overdue + timedelta(days=89), **post) is not None
    assert _active(session, at=overdue + timedelta(days=91), **post) is None


def test_reconfirm_refused_for_one_off_access(session: Session) -> None:
    grant = create_active(session)
    with pytest.raises(InvalidTransition, match="not periodic"):
        lifecycle.reconfirm(session, authorization_id=grant.id, uscc=FIRM, actor=FIRM_ACTOR, now=T0)


# ---- who may decide -----------------------------------------------------------------------------


def test_enterprise_of_another_uscc_cannot_approve_or_see(session: Session) -> None:
    req = create_request(session)
    notices = load_notices()
    stranger = Principal(kind=PrincipalKind.enterprise, code=OTHER_FIRM, key_id="k-other")
    with pytest.raises(AuthorizationNotFound):
        lifecycle.approve(
            session,
            authorization_id=req.id,
            uscc=OTHER_FIRM,
            actor=stranger,
            risk_notice_sha256=notices.in_force(T0).sha256,
            notices=notices,
            key=KEY,
            now=T0,
        )
    with pytest.raises(AuthorizationNotFound):
        service.get_authorization(session, authorization_id=req.id, now=T0, uscc=OTHER_FIRM)
    with pytest.raises(AuthorizationNotFound):
        service.get_authorization(
            session, authorization_id=req.id, now=T0, institution_code=OTHER_BANK
        )
    assert service.get_authorization(session, authorization_id=req.id, now=T0).status.value == (
        "requested"
    )


def test_stale_notice_hash_is_refused(session: Session) -> None:
    req = create_request(session)
    notices = load_notices()
    with pytest.raises(StaleRiskNotice) as caught:
        lifecycle.approve(
            session,
            authorization_id=req.id,
            uscc=FIRM,
            actor=FIRM_ACTOR,
            risk_notice_sha256="0" * 64,
            notices=notices,
            key=KEY,
            now=T0,
        )
    assert caught.value.details["field"] == "risk_notice_sha256"
    assert caught.value.status == 409
    read = service.get_authorization(session, authorization_id=req.id, now=T0)
    assert read.status is AuthorizationStatus.requested


def test_superseding_request_ends_the_old_one_on_approval(session: Session) -> None:
    old = create_active(session)
    new = create_request(session, supersedes_id=old.id, items=["tax_payment"])
    assert new.version == 2
    assert new.supersedes_id == old.id
    assert _active(session, item="social_insurance") is not None  # old one still active
    approve(session, new, now=T0 + timedelta(minutes=5))
    at = T0 + timedelta(minutes=6)
    assert _active(session, item="social_insurance", at=at) is None
    found = _active(session, item="tax_payment", at=at)
    assert found is not None
    assert found.id == new.id
    events = service.list_events(session, authorization_id=old.id)
    assert events[-1].action.value == "supersede"
    assert events[-1].reason == f"superseded by {new.id}"


def test_supersedes_must_be_own(session: Session) -> None:
    theirs = create_request(session, institution=OTHER_BANK)
    with pytest.raises(InvalidAuthorizationRequest) as caught:
        create_request(session, supersedes_id=theirs.id)
    assert caught.value.details["field"] == "supersedes_id"


def test_events_are_stored_one_per_change(session: Session) -> None:
    grant = create_active(session)
    rows = session.scalars(
        select(AuthorizationEvent).where(AuthorizationEvent.authorization_id == grant.id)
    ).all()
    assert len(rows) == 2


# ---- invalid requests: each error names the field -----------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "error", "field", "words"),
    [
        ({"items": ["no_such_item"]}, InvalidAuthorizationRequest, "items[0]", "unknown catalog"),
        (
            {"items": ["tax_payment", "registration"]},
            InvalidAuthorizationRequest,
            "items[1]",
            "publicly disclosable",
        ),
        (
            {"items": ["tax_payment", "tax_payment"]},
            InvalidAuthorizationRequest,
            "items[1]",
            "listed twice",
        ),
        ({"purpose": "public_inquiry"}, InvalidAuthorizationRequest, "purpose", "not a financing"),
        ({"purpose": "self_query"}, InvalidAuthorizationRequest, "purpose", "not a financing"),
        (
            {"valid_until": T0 + timedelta(days=31)},
            ExceedsPurposeTemplate,
            "valid_until",
            "at most 30 days",
        ),
        (
            {"purpose": "in_loan", "valid_until": T0 + timedelta(days=91)},
            ExceedsPurposeTemplate,
            "valid_until",
            "at most 90 days",
        ),
        (
            {"purpose": "post_loan", "valid_until": T0 + timedelta(days=1097)},
            ExceedsPurposeTemplate,
            "valid_until",
            "at most 1096 days",
        ),
        (
            {"data_from_date": date(2025, 6, 1), "data_to_date": date(2025, 1, 1)},
            InvalidAuthorizationRequest,
            "data_to_date",
            "inverted",
        ),
        (
            {"data_from_date": date(2015, 1, 1)},
            ExceedsPurposeTemplate,
            "data_from_date",
            "at most 1096",
        ),
        ({"valid_until": T0}, InvalidAuthorizationRequest, "valid_until", "is not after"),
        (
            {"valid_from": T0 - timedelta(days=1)},
            InvalidAuthorizationRequest,
            "valid_from",
            "in the past",
        ),
        ({"access_mode": "periodic"}, ExceedsPurposeTemplate, "access_mode", "not allowed"),
        (
            {"purpose": "post_loan", "access_mode": "periodic"},
            ExceedsPurposeTemplate,
            "fetch_frequency",
            "fetch frequency",
        ),
        (
            {"fetch_frequency": "daily"},
            InvalidAuthorizationRequest,
            "fetch_frequency",
            "only for access mode periodic",
        ),
        ({"retention_days": 4000}, ExceedsPurposeTemplate, "retention_days", "at most 1825"),
        ({"uscc": "91350100M000100Y44"}, InvalidAuthorizationRequest, "uscc", "position 18"),
        (
            {"valid_until": T0.replace(tzinfo=None) + timedelta(days=3)},
            InvalidAuthorizationRequest,
            "valid_until",
            "time zone",
        ),
    ],
)
def test_invalid_requests_name_the_field(
    session: Session,
    overrides: dict[str, Any],
    error: type[Exception],
    field: str,
    words: str,
) -> None:
    with pytest.raises(error) as caught:
        create_request(session, **overrides)
    exc: Any = caught.value
    assert exc.details["field"] == field
    assert exc.message.startswith(f"{field}: ")
    assert words in exc.message
    assert exc.status == 422
    assert session.scalars(select(Authorization)).all() == []


def test_every_bad_item_is_listed(session: Session) -> None:
    with pytest.raises(InvalidAuthorizationRequest) as caught:
        create_request(session, items=["nope", "registration", "tax_payment"])
    problems = caught.value.details["problems"]
    assert [p["field"] for p in problems] == ["items[0]", "items[1]"]
    assert "(and 1 more)" in caught.value.message


def test_on_request_items_can_be_authorized(session: Session) -> None:
    # annual_report is not publicly disclosable (依申请公开) though no authorization flag is set
    made = create_request(session, items=["annual_report"])
    assert made.items == ["annual_report"]


def test_active_authorizations_lists_the_grants_for_a_purpose(session: Session) -> None:
    short = create_active(session, valid_until=T0 + timedelta(days=5))
    long = create_active(session, valid_until=T0 + timedelta(days=20), items=["housing_fund"])
    create_request(session)  # not approved: not listed
    paused = create_active(session)
    lifecycle.pause(session, authorization_id=paused.id, uscc=FIRM, actor=FIRM_ACTOR, now=T0)
    at = T0 + timedelta(days=1)
    grants = service.active_authorizations(
        session, institution_code=BANK, uscc=FIRM, purpose=Purpose.pre_loan, at=at
    )
    assert [g.id for g in grants] == [long.id, short.id]  # longest lasting first
    assert (
        service.active_authorizations(
            session, institution_code=BANK, uscc=FIRM, purpose=Purpose.in_loan, at=at
        )
        == []
    )
    later = T0 + timedelta(days=6)
    assert [
        g.id
        for g in service.active_authorizations(
            session, institution_code=BANK, uscc=FIRM, purpose=Purpose.pre_loan, at=later
        )
    ] == [long.id]
