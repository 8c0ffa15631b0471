"""Reading evidence files: who may, and the access-log entry of a read (API and pages)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.audit.schemas import AccessEvent, ActorKind, Outcome
from rongxin.errors import NotFound
from rongxin.rights import objections, repair
from rongxin.rights import service as rights_service
from rongxin.rights.errors import RepairNotFound
from rongxin.rights.schemas import AttachmentRead, CaseKind


def readable_attachment(
    session: Session, *, attachment_id: str, principal: Principal
) -> tuple[AttachmentRead, bytes]:
    """The file and its metadata, if ``principal`` may read it: the enterprise its own, staff
    all, a provider those of the cases it handles (else 404, as if it did not exist)."""
    found = rights_service.attachment_content(session, attachment_id=attachment_id)
    if found is None or not _may_read(session, principal, found[0]):
        raise RepairNotFound(f"no attachment {attachment_id}")
    return found


def _may_read(session: Session, principal: Principal, meta: AttachmentRead) -> bool:
    if principal.kind is PrincipalKind.enterprise:
        return meta.uscc == principal.code
    if principal.kind in (PrincipalKind.operator, PrincipalKind.regulator):
        return True
    try:
        if meta.owner_kind == CaseKind.objection.value:
            objections.get(session, objection_id=meta.owner_id, principal=principal)
            return True
        if meta.owner_kind == CaseKind.repair.value:
            repair.get(session, application_id=meta.owner_id, principal=principal)
            return True
    except NotFound:
        return False
    return False


def read_event(principal: Principal, meta: AttachmentRead) -> AccessEvent | None:
    """The access-log entry of a read by anyone but the enterprise itself."""
    if principal.kind is PrincipalKind.enterprise:
        return None
    return AccessEvent(
        action="rights.attachment",
        actor_kind=ActorKind(principal.kind.value),
        actor_code=principal.code,
        user_id=principal.user_id,
        uscc=meta.uscc,
        outcome=Outcome.allowed,
        detail=f"{meta.owner_kind} evidence {meta.id}",
    )
