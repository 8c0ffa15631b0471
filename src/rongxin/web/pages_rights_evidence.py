"""Evidence files of the rights cases: read from a form's uploads, attached to an objection, a
repair application or a self-report, listed on a case page and downloaded from
``/rights/attachments/{id}`` by the enterprise and whoever handles its case (every read by
someone other than the enterprise is logged).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload

from rongxin.audit import writer as audit_writer
from rongxin.config import Settings
from rongxin.deps import GroupCommitDep, SessionDep, SettingsDep
from rongxin.rights import evidence
from rongxin.rights import service as rights_service
from rongxin.rights.schemas import CaseKind
from rongxin.web.pages import PageRoute
from rongxin.web.pages_rights import CaseViewer, case_path
from rongxin.web.rendering import no_store

rights_evidence_router = APIRouter(include_in_schema=False, route_class=PageRoute)


@dataclass(frozen=True, slots=True)
class Evidence:
    filename: str
    media_type: str
    content: bytes


def _evidence(uploads: Iterable[object], max_bytes: int) -> list[Evidence]:
    """The files chosen (an empty file input posts a nameless part: skipped)."""
    out = []
    for upload in uploads:
        if not isinstance(upload, StarletteUpload) or not upload.filename:
            continue
        content = upload.file.read(max_bytes + 1)
        out.append(Evidence(upload.filename, upload.content_type or "", content))
    return out


def attach_uploads(
    session: Session,
    *,
    settings: Settings,
    uscc: str,
    owner_kind: str,
    owner_id: str,
    uploads: Iterable[object],
) -> None:
    """Attach the files chosen to the case ``owner_kind``/``owner_id`` of ``uscc``."""
    for f in _evidence(uploads, settings.rights_attachment_max_bytes):
        rights_service.add_attachment(
            session,
            uscc=uscc,
            owner_kind=owner_kind,
            owner_id=owner_id,
            filename=f.filename,
            media_type=f.media_type,
            content=f.content,
            max_bytes=settings.rights_attachment_max_bytes,
        )


def attach_to_case(
    session: Session,
    *,
    settings: Settings,
    uscc: str,
    kind: CaseKind,
    case_id: str,
    uploads: Iterable[object],
) -> str:
    """Attach the files chosen to the objection or repair application just filed; where its
    page is."""
    attach_uploads(
        session,
        settings=settings,
        uscc=uscc,
        owner_kind=kind.value,
        owner_id=case_id,
        uploads=uploads,
    )
    return case_path(kind, case_id)


@rights_evidence_router.get("/rights/attachments/{attachment_id}", name="rights_attachment")
def rights_attachment(
    attachment_id: str,
    principal: CaseViewer,
    session: SessionDep,
    settings: SettingsDep,
    writer: GroupCommitDep,
) -> Response:
    """An evidence file, for the enterprise and whoever handles its case; every read by someone
    other than the enterprise is logged (as ``GET /api/v1/rights/attachments/{id}``)."""
    actor = principal.principal
    meta, content = evidence.readable_attachment(
        session, attachment_id=attachment_id, principal=actor
    )
    event = evidence.read_event(actor, meta)
    if event is not None:
        session.commit()  # the shared writer logs the read in its own transaction
        audit_writer.record_sync(writer, [event], settings=settings)
    return no_store(
        Response(
            content,
            media_type=meta.media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{meta.id}"',
                "X-Content-Type-Options": "nosniff",
            },
        )
    )
