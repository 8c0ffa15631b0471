"""Self-reported information (自主填报, S3): the enterprise adds records of the catalog's
self-reported items (financial statements, statements about contracts, certificates,
explanations) under a signed credit commitment, with evidence files. They go through ingestion
like any delivery — the enterprise is their provider — and reports label them 自主填报.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from rongxin.access.schemas import Principal
from rongxin.catalog.schemas import Catalog, Item
from rongxin.db.base import utcnow
from rongxin.ingest.schemas import BatchStatus
from rongxin.rights import delivery
from rongxin.rights import service as rights_service
from rongxin.rights.errors import InvalidRightsRequest
from rongxin.rights.objections import china_today
from rongxin.rights.schemas import (
    SELF_REPORTED_PROVIDER,
    CommitmentContext,
    SelfReportCreate,
    SelfReportResult,
)

ENTERPRISE_PROVIDER: Final = SELF_REPORTED_PROVIDER
#: fields the platform fills in
COMMITMENT_FIELD: Final = "commitment_version"
STATEMENT_ID_FIELD: Final = "statement_id"
OWNER_KIND: Final = "self_report"


def self_reported_items(catalog: Catalog) -> list[Item]:
    return [i for i in catalog.items if i.provider == ENTERPRISE_PROVIDER]


def owner_id(item_code: str, record_key: str) -> str:
    return f"{item_code}:{record_key}"


def submit(
    session: Session,
    *,
    catalog: Catalog,
    texts: rights_service.CommitmentTexts,
    principal: Principal,
    body: SelfReportCreate,
    origin_node: str,
    at: datetime | None = None,
) -> SelfReportResult:
    """Validate and store one self-reported record of the enterprise, with its commitment."""
    when = at or utcnow()
    items = {i.code: i for i in self_reported_items(catalog)}
    item = items.get(body.item_code)
    if item is None:
        raise InvalidRightsRequest(
            f"{body.item_code!r} is not a self-reported item (self-reported: "
            f"{', '.join(sorted(items)) or 'none'})",
            field="item_code",
        )
    commitment = rights_service.sign_commitment(
        session,
        texts=texts,
        principal=principal,
        uscc=principal.code,
        echo=body.commitment,
        context=CommitmentContext.self_report,
        at=when,
    )
    values: dict[str, Any] = dict(body.values)
    names = {f.name for f in item.fields}
    values["uscc"] = principal.code
    if COMMITMENT_FIELD in names:
        values[COMMITMENT_FIELD] = commitment.version
    if STATEMENT_ID_FIELD in names and not values.get(STATEMENT_ID_FIELD):
        values[STATEMENT_ID_FIELD] = uuid.uuid4().hex[:16]
    date_field = item.event_date_field
    if date_field and date_field in names and not values.get(date_field):
        values[date_field] = china_today(when).isoformat()
    batch, key = delivery.deliver_one(
        session,
        catalog=catalog,
        item=item,
        provider_code=ENTERPRISE_PROVIDER,
        values=values,
        source_name=f"self-report {principal.code}",
        origin_node=origin_node,
    )
    if batch.inserted:
        outcome = "inserted"
    elif batch.updated:
        outcome = "updated"
    else:
        outcome = "unchanged"
    if batch.status is BatchStatus.duplicate:
        outcome = "unchanged"
    return SelfReportResult(
        item_code=item.code,
        record_key=key,
        batch_id=batch.id,
        outcome=outcome,
        commitment_id=commitment.id,
    )
