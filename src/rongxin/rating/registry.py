"""The scorecard registry (评分卡登记): every version of the platform's and each institution's
scorecards, with the training data's fingerprint, the held-out metrics, the development
sample's distributions (for PSI) and the approval (four-eyes: 四眼原则).

draft → approved → retired; a draft may also be retired. Rows are never deleted, and a
version's card never changes: a new card is a new version.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from rongxin.db.base import utcnow
from rongxin.errors import InvalidInput
from rongxin.rating.errors import (
    ScorecardExists,
    ScorecardFourEyes,
    ScorecardNotFound,
    ScorecardTransitionError,
)
from rongxin.rating.models import ScorecardModel
from rongxin.rating.schemas import (
    OWNER_PATTERN,
    Metrics,
    ScorecardRead,
    ScorecardReference,
    ScorecardStatus,
)
from rongxin.rating.scorecards import ScorecardSpec


def _read(row: ScorecardModel) -> ScorecardRead:
    return ScorecardRead.model_validate(row)


def _row(session: Session, model_id: str) -> ScorecardModel:
    row = session.get(ScorecardModel, model_id)
    if row is None:
        raise ScorecardNotFound(f"no scorecard {model_id!r} in the registry; check the id")
    return row


def register_scorecard(
    session: Session,
    *,
    spec: ScorecardSpec,
    owner_code: str,
    created_by: str,
    fingerprint: str | None = None,
    metrics: Metrics | None = None,
    reference: ScorecardReference | None = None,
) -> ScorecardRead:
    """Register ``spec`` as a draft of ``owner_code`` ('platform' or an institution's code)."""
    if not re.fullmatch(OWNER_PATTERN, owner_code):
        raise InvalidInput(
            f"owner {owner_code!r} is not 'platform' or an institution code (lower-case "
            "letters, digits, - and _)",
            field="owner_code",
        )
    if not created_by.strip():
        raise InvalidInput("say who registers the scorecard", field="created_by")
    if fingerprint is not None and not re.fullmatch(r"[0-9a-f]{64}", fingerprint):
        raise InvalidInput(
            "the fingerprint is a sha256 in hex (64 characters)", field="fingerprint"
        )
    taken = session.scalar(
        select(ScorecardModel.id).where(
            ScorecardModel.owner_code == owner_code,
            ScorecardModel.name == spec.name,
            ScorecardModel.version == spec.version,
        )
    )
    if taken is not None:
        raise ScorecardExists(
            f"{owner_code} already registered scorecard {spec.name!r} version {spec.version} "
            f"({taken}); give the new card another version",
            id=taken,
        )
    row = ScorecardModel(
        id=uuid.uuid4().hex,
        owner_code=owner_code,
        name=spec.name,
        version=spec.version,
        spec=spec.model_dump(mode="json"),
        fingerprint=fingerprint,
        metrics=metrics.model_dump(mode="json") if metrics is not None else None,
        reference=reference.model_dump(mode="json") if reference is not None else None,
        status=ScorecardStatus.draft.value,
        created_by=created_by,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _read(row)


def approve_scorecard(session: Session, *, model_id: str, approved_by: str) -> ScorecardRead:
    """Approve a draft for use; the approver is not the person who registered it."""
    row = _row(session, model_id)
    if row.status != ScorecardStatus.draft.value:
        raise ScorecardTransitionError(
            f"scorecard {row.name!r} {row.version} is {row.status}; only a draft can be approved"
        )
    if not approved_by.strip() or approved_by == row.created_by:
        raise ScorecardFourEyes(
            f"{approved_by!r} registered scorecard {row.name!r} {row.version}; another person "
            "must approve it (four-eyes)"
        )
    row.status = ScorecardStatus.approved.value
    row.approved_by = approved_by
    row.approved_at = utcnow()
    session.flush()
    return _read(row)


def retire_scorecard(session: Session, *, model_id: str) -> ScorecardRead:
    """Take a draft or approved scorecard out of use (it stays in the registry)."""
    row = _row(session, model_id)
    if row.status == ScorecardStatus.retired.value:
        raise ScorecardTransitionError(f"scorecard {row.name!r} {row.version} is already retired")
    row.status = ScorecardStatus.retired.value
    session.flush()
    return _read(row)


def get_scorecard(session: Session, *, model_id: str) -> ScorecardRead:
    return _read(_row(session, model_id))


def list_scorecards(
    session: Session,
    *,
    owner_code: str | None = None,
    name: str | None = None,
    status: ScorecardStatus | None = None,
) -> list[ScorecardRead]:
    """Registered scorecards, by owner, name and registration time."""
    stmt = select(ScorecardModel)
    if owner_code is not None:
        stmt = stmt.where(ScorecardModel.owner_code == owner_code)
    if name is not None:
        stmt = stmt.where(ScorecardModel.name == name)
    if status is not None:
        stmt = stmt.where(ScorecardModel.status == status.value)
    stmt = stmt.order_by(
        ScorecardModel.owner_code,
        ScorecardModel.name,
        ScorecardModel.created_at,
        ScorecardModel.version,
        ScorecardModel.id,
    )
    return [_read(row) for row in session.scalars(stmt)]
