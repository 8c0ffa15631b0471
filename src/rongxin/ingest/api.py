"""Ingestion routes: providers deliver files over HTTP (streamed), and read their history."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from rongxin.access.deps import CurrentPrincipal, ProviderPrincipal
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.deps import CatalogDep, SessionDep, SettingsDep
from rongxin.entities import service as entities_service
from rongxin.errors import InvalidInput
from rongxin.ingest import history, quality
from rongxin.ingest.schemas import BatchPage, BatchResult, BatchStatus, QualityRow
from rongxin.ingest.service import Delivery, ingest_file

router = APIRouter(prefix="/ingest", tags=["ingest"])

SUFFIX_BY_TYPE = {
    "text/csv": ".csv",
    "application/csv": ".csv",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "application/x-jsonlines": ".jsonl",
    "application/vnd.apache.parquet": ".parquet",
    "application/x-parquet": ".parquet",
}
STATUS_CODE = {BatchStatus.committed: 201, BatchStatus.duplicate: 200, BatchStatus.rejected: 422}


def _own_provider(principal: Principal, provider: str | None) -> str | None:
    """Providers see only their own batches; operators and regulators see all."""
    if principal.kind is PrincipalKind.provider:
        if provider not in (None, principal.code):
            raise Forbidden("a provider sees only its own deliveries")
        return principal.code
    if principal.kind in (PrincipalKind.operator, PrincipalKind.regulator):
        return provider
    raise Forbidden("delivery history is for providers, operators and regulators")


@router.post(
    "/{item}",
    response_model=BatchResult,
    responses={201: {"model": BatchResult}, 422: {"model": BatchResult}},
)
async def deliver(
    item: str,
    request: Request,
    principal: ProviderPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    catalog: CatalogDep,
    filename: Annotated[str | None, Query(max_length=200)] = None,
    encoding: Annotated[str | None, Query(pattern=r"^(utf-8|gb18030)$")] = None,
) -> JSONResponse:
    """Deliver one file for ``item`` as the request body (streamed; CSV, JSONL or Parquet by
    Content-Type). 201: committed; 200: identical to an earlier batch; 422: rejected, with the
    problems (row, field, value, reason) — nothing was written."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    suffix = SUFFIX_BY_TYPE.get(content_type)
    if suffix is None:
        raise InvalidInput(
            f"unsupported Content-Type {content_type or '(none)'!r}; use text/csv, "
            "application/x-ndjson or application/vnd.apache.parquet",
            field="content-type",
        )
    incoming = settings.data_dir / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    size = 0
    with tempfile.NamedTemporaryFile(dir=incoming, suffix=suffix, delete=False) as tmp:
        path = Path(tmp.name)
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > settings.ingest_max_bytes:
                    raise InvalidInput(
                        f"delivery larger than {settings.ingest_max_bytes:,} bytes; split it "
                        "or raise RONGXIN_INGEST_MAX_BYTES",
                        field="body",
                    )
                tmp.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    try:
        result = ingest_file(
            session,
            catalog=catalog,
            delivery=Delivery(
                path=path,
                provider_code=principal.code,
                item_code=item,
                source_name=f"api:{filename or path.name}",
                encoding=encoding,
            ),
            origin_node=settings.node_id,
            as_of=date.today(),
            allow_list=entities_service.load_allow_list(settings.uscc_allowlist_path),
        )
    finally:
        path.unlink(missing_ok=True)
    return JSONResponse(result.model_dump(mode="json"), status_code=STATUS_CODE[result.status])


@router.get("/batches", response_model=BatchPage)
def batches(
    principal: CurrentPrincipal,
    session: SessionDep,
    provider: str | None = None,
    item: str | None = None,
    status: BatchStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> BatchPage:
    """Delivery history, newest first."""
    return history.list_batches(
        session,
        provider=_own_provider(principal, provider),
        item=item,
        status=status.value if status else None,
        limit=limit,
        offset=offset,
    )


@router.get("/batches/{batch_id}", response_model=BatchResult)
def batch(batch_id: str, principal: CurrentPrincipal, session: SessionDep) -> BatchResult:
    """One batch with its counts, quality and (when rejected) its problems."""
    return history.get_batch(session, batch_id=batch_id, provider=_own_provider(principal, None))


@router.get("/quality", response_model=list[QualityRow])
def quality_summary(
    principal: CurrentPrincipal,
    session: SessionDep,
    provider: str | None = None,
    item: str | None = None,
) -> list[QualityRow]:
    """Data quality per provider and item (S4)."""
    return quality.quality_report(session, provider=_own_provider(principal, provider), item=item)
