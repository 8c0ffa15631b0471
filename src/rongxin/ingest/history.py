"""A provider's delivery history: batches with their counts and quality."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rongxin.errors import NotFound
from rongxin.ingest.models import BatchQuality, IngestBatch
from rongxin.ingest.schemas import BatchPage, BatchRead, BatchResult, ProblemRead, QualityRead


def list_batches(
    session: Session,
    *,
    provider: str | None = None,
    item: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> BatchPage:
    """Newest first."""
    stmt = select(IngestBatch)
    if provider:
        stmt = stmt.where(IngestBatch.provider_code == provider)
    if item:
        stmt = stmt.where(IngestBatch.item_code == item)
    if status:
        stmt = stmt.where(IngestBatch.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(IngestBatch.received_at.desc(), IngestBatch.id).limit(limit).offset(offset)
    )
    return BatchPage(
        items=[BatchRead.model_validate(b) for b in rows], total=total, limit=limit, offset=offset
    )


def get_batch(session: Session, *, batch_id: str, provider: str | None = None) -> BatchResult:
    """One batch with its quality and problems; ``provider`` limits it to that provider's own."""
    batch = session.get(IngestBatch, batch_id)
    if batch is None or (provider is not None and batch.provider_code != provider):
        raise NotFound(f"no batch {batch_id!r}", batch=batch_id)
    qual = session.get(BatchQuality, batch_id)
    problems = [ProblemRead.model_validate(p) for p in batch.problems or []]
    return BatchResult(
        **BatchRead.model_validate(batch).model_dump(),
        quality=QualityRead.model_validate(qual) if qual else None,
        problems=problems,
        problem_count=len(problems),
    )


def qualities(session: Session, *, batch_ids: list[str]) -> dict[str, QualityRead]:
    """Quality figures of several batches in one query (batches without figures are absent)."""
    if not batch_ids:
        return {}
    rows = session.scalars(select(BatchQuality).where(BatchQuality.batch_id.in_(batch_ids)))
    return {q.batch_id: QualityRead.model_validate(q) for q in rows}
