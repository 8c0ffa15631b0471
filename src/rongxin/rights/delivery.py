"""One record delivered through the ingestion pipeline: self-reported information (the
enterprise is the provider of its self-reported items) and a provider's correction after an
objection. The same catalog validation, versioning and batch history as any delivery — no
second way into the record store.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from rongxin.catalog.schemas import Catalog, Item
from rongxin.ingest import service as ingest_service
from rongxin.ingest.schemas import BatchResult, BatchStatus
from rongxin.rights.errors import InvalidRightsRequest


def _text(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def deliver_one(
    session: Session,
    *,
    catalog: Catalog,
    item: Item,
    provider_code: str,
    values: dict[str, Any],
    source_name: str,
    origin_node: str,
) -> tuple[BatchResult, str]:
    """Validate and upsert one record of ``item``; returns the batch and the record key.

    A record the catalog refuses raises :class:`InvalidRightsRequest` naming the field and why
    (nothing is written: the caller's transaction rolls back).
    """
    unknown = sorted(set(values) - {f.name for f in item.fields})
    if unknown:
        raise InvalidRightsRequest(
            f"item {item.code} has no field(s) {', '.join(unknown)}", field=unknown[0]
        )
    row = {name: _text(v) for name, v in values.items() if v is not None}
    with tempfile.TemporaryDirectory(prefix="rongxin-rights-") as folder:
        path = Path(folder) / f"{item.code}.jsonl"
        path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
        result = ingest_service.ingest_file(
            session,
            catalog=catalog,
            delivery=ingest_service.Delivery(
                path=path,
                provider_code=provider_code,
                item_code=item.code,
                source_name=source_name,
                same_file_again=True,
            ),
            origin_node=origin_node,
        )
        if result.status is BatchStatus.rejected:
            problem = result.problems[0] if result.problems else None
            field = problem.field if problem is not None else None
            reason = problem.reason if problem is not None else "rejected"
            raise InvalidRightsRequest(
                f"{field or 'record'}: {reason}",
                field=field,
                problems=[
                    p.model_dump(mode="json", exclude={"file", "line", "where"})
                    for p in result.problems
                ],
            )
        # the key as the store holds it: the file read and typed as ingestion read it
        (key,) = ingest_service.record_keys_of(item, path)
    return result, key
