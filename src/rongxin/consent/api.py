"""Consent routes under /api/v1/consent (经企业授权, issue 4 item 3).

- an institution requests (``POST /authorizations``) and sees only its own requests;
- the enterprise sees those about its USCC, reads the risk notice
  (``GET /authorizations/{id}/notice``) and approves — echoing the notice's sha256 — rejects,
  revokes, pauses, resumes or reconfirms;
- operators and regulators read everything; providers nothing;
- ``GET /authorizations/{id}/evidence`` returns the signed record and whether it verifies.

Another party's authorization answers 404, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Final

from fastapi import APIRouter, Body, Query, status

from rongxin.access.deps import EnterprisePrincipal
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.consent import lifecycle, requests, service
from rongxin.consent.deps import (
    ConsentViewer,
    EvidenceKeyDep,
    NoticesDep,
    RequestingInstitution,
    TemplatesDep,
)
from rongxin.consent.purposes import TemplateSet
from rongxin.consent.schemas import (
    Approval,
    ApprovalChannel,
    AuthorizationAction,
    AuthorizationDetail,
    AuthorizationRead,
    AuthorizationRequest,
    AuthorizationStatus,
    EvidenceKeyRead,
    EvidenceRead,
    NoticeForAuthorization,
    ReasonBody,
    RiskNoticeRead,
)
from rongxin.db.base import utcnow
from rongxin.deps import CatalogDep, SessionDep, SettingsDep
from rongxin.entities import service as entities_service
from rongxin.kit.pagination import Page

router = APIRouter(prefix="/consent", tags=["consent"])

OptionalReason = Annotated[ReasonBody | None, Body(description="An optional reason.")]
StatusFilter = Annotated[
    list[AuthorizationStatus] | None,
    Query(description="Only these statuses (repeatable); expiry counts at once."),
]


def _scope(principal: Principal) -> tuple[str | None, str | None]:
    """(uscc, institution_code) the caller is limited to; (None, None) for staff."""
    if principal.kind is PrincipalKind.enterprise:
        return principal.code, None
    if principal.kind is PrincipalKind.institution:
        return None, principal.code
    return None, None


@router.get("/purposes", response_model=TemplateSet)
def get_purposes(templates: TemplatesDep) -> TemplateSet:
    """The purpose templates in force: what an authorization may ask for, per purpose."""
    return templates.in_force(utcnow())


@router.get("/notice", response_model=RiskNoticeRead)
def get_current_notice(notices: NoticesDep) -> RiskNoticeRead:
    """The risk notice (风险提示) in force, with its sha256."""
    return notices.in_force(utcnow())


@router.get("/evidence-key", response_model=EvidenceKeyRead)
def get_evidence_key(key: EvidenceKeyDep) -> EvidenceKeyRead:
    """This node's public key for checking approval evidence offline (Ed25519, raw, base64)."""
    return EvidenceKeyRead(alg="Ed25519", key_id=key.key_id, public_key=key.public_key_b64)


@router.post(
    "/authorizations", response_model=AuthorizationRead, status_code=status.HTTP_201_CREATED
)
def request_authorization(
    body: AuthorizationRequest,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    principal: RequestingInstitution,
) -> AuthorizationRead:
    """Ask an enterprise to authorize items for a financing purpose; it decides later."""
    return requests.request_authorization(
        session,
        catalog=catalog,
        templates=templates,
        institution_code=principal.code,
        spec=body,
        actor=principal,
        now=utcnow(),
        uscc_allow_list=entities_service.load_allow_list(settings.uscc_allowlist_path),
    )


@router.get("/authorizations", response_model=Page[AuthorizationRead])
def list_authorizations(
    session: SessionDep,
    principal: ConsentViewer,
    status: StatusFilter = None,
    uscc: Annotated[str | None, Query(max_length=18, description="Staff: one enterprise.")] = None,
    institution: Annotated[
        str | None, Query(max_length=64, description="Staff: one institution.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[AuthorizationRead]:
    """Institutions: their requests; enterprises: those about them; staff: all. Newest first."""
    own_uscc, own_institution = _scope(principal)
    return service.list_authorizations(
        session,
        now=utcnow(),
        uscc=own_uscc or uscc,
        institution_code=own_institution or institution,
        statuses=status or (),
        limit=limit,
        offset=offset,
    )


@router.get("/authorizations/pending", response_model=Page[AuthorizationRead])
def list_pending(
    session: SessionDep,
    principal: EnterprisePrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[AuthorizationRead]:
    """The enterprise's requests waiting for its decision."""
    return service.list_authorizations(
        session,
        now=utcnow(),
        uscc=principal.code,
        statuses=(AuthorizationStatus.requested,),
        limit=limit,
        offset=offset,
    )


@router.get("/authorizations/{authorization_id}", response_model=AuthorizationDetail)
def get_authorization(
    authorization_id: str, session: SessionDep, principal: ConsentViewer
) -> AuthorizationDetail:
    """One authorization with its state history."""
    uscc, institution = _scope(principal)
    return service.get_authorization(
        session,
        authorization_id=authorization_id,
        now=utcnow(),
        uscc=uscc,
        institution_code=institution,
    )


@router.get("/authorizations/{authorization_id}/notice", response_model=NoticeForAuthorization)
def get_notice(
    authorization_id: str, session: SessionDep, principal: ConsentViewer, notices: NoticesDep
) -> NoticeForAuthorization:
    """What the enterprise is shown before deciding: the terms and the risk notice in force.
    Approve with the notice's ``sha256``."""
    uscc, institution = _scope(principal)
    now = utcnow()
    found = service.get_authorization(
        session, authorization_id=authorization_id, now=now, uscc=uscc, institution_code=institution
    )
    return NoticeForAuthorization(
        authorization=AuthorizationRead(**found.model_dump(exclude={"events"})),
        notice=notices.in_force(now),
    )


@router.post("/authorizations/{authorization_id}/approve", response_model=AuthorizationRead)
def approve(
    authorization_id: str,
    body: Approval,
    session: SessionDep,
    principal: EnterprisePrincipal,
    notices: NoticesDep,
    key: EvidenceKeyDep,
) -> AuthorizationRead:
    """Approve a request (409 when the echoed notice hash is not the notice in force)."""
    return lifecycle.approve(
        session,
        authorization_id=authorization_id,
        uscc=principal.code,
        actor=principal,
        risk_notice_sha256=body.risk_notice_sha256,
        notices=notices,
        key=key,
        now=utcnow(),
        channel=ApprovalChannel.api,
    )


#: the enterprise's simple decisions, one route each: ``POST …/{authorization_id}/{action}``
DECISIONS: Final = {
    AuthorizationAction.reject: "Decline a request.",
    AuthorizationAction.revoke: "End an active or paused authorization; effective immediately.",
    AuthorizationAction.pause: "Suspend an active authorization; reads stop at once.",
    AuthorizationAction.resume: "Lift a pause (periodic access counts as reconfirmed).",
}


def _decision_route(action: AuthorizationAction) -> Callable[..., AuthorizationRead]:
    def decide(
        authorization_id: str,
        session: SessionDep,
        principal: EnterprisePrincipal,
        body: OptionalReason = None,
    ) -> AuthorizationRead:
        return lifecycle.change(
            session,
            action=action,
            authorization_id=authorization_id,
            uscc=principal.code,
            actor=principal,
            now=utcnow(),
            reason=body.reason if body else "",
        )

    decide.__doc__ = DECISIONS[action]
    return decide


for _action in DECISIONS:
    router.post(
        f"/authorizations/{{authorization_id}}/{_action.value}",
        response_model=AuthorizationRead,
        name=_action.value,
        summary=_action.value.capitalize(),
    )(_decision_route(_action))


@router.post("/authorizations/{authorization_id}/reconfirm", response_model=AuthorizationRead)
def reconfirm(
    authorization_id: str, session: SessionDep, principal: EnterprisePrincipal
) -> AuthorizationRead:
    """Reconfirm periodic access for another reconfirmation period."""
    return lifecycle.reconfirm(
        session,
        authorization_id=authorization_id,
        uscc=principal.code,
        actor=principal,
        now=utcnow(),
    )


@router.get("/authorizations/{authorization_id}/evidence", response_model=EvidenceRead)
def get_evidence(
    authorization_id: str, session: SessionDep, principal: ConsentViewer, key: EvidenceKeyDep
) -> EvidenceRead:
    """The signed record of the approved terms, and whether it verifies with this node's key."""
    uscc, institution = _scope(principal)
    return service.verify_evidence(
        session,
        authorization_id=authorization_id,
        key=key,
        uscc=uscc,
        institution_code=institution,
    )
