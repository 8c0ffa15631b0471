"""Helpers for the batch-push tests: entities, subscriptions and reading delivered files."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from entity_factories import create_entity, make_uscc
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.entities.models import MarketEntity
from rongxin.push import subscriptions
from rongxin.push.files import COLUMNS
from rongxin.push.schemas import (
    DeliveryMode,
    DeliveryRead,
    FileFormat,
    SubscriptionCreate,
    SubscriptionCreated,
)

_seed = iter(range(1000, 100_000))


def entity(session: Session, *, region: str = "350102", section: str = "C") -> MarketEntity:
    seed = next(_seed)
    return create_entity(
        session,
        uscc=make_uscc(region=region, seed=seed),
        region_code=region,
        industry_section=section,
    )


def subscribe(
    session: Session,
    catalog: Catalog,
    *,
    institution: str = "bank_a",
    **spec: Any,
) -> SubscriptionCreated:
    spec.setdefault("file_format", FileFormat.jsonl if "webhook_url" not in spec else None)
    if "webhook_url" in spec:
        spec.setdefault("delivery", DeliveryMode.webhook)
    return subscriptions.create_subscription(
        session, catalog=catalog, institution_code=institution, spec=SubscriptionCreate(**spec)
    )


def deliveries(session: Session, subscription_id: str) -> list[DeliveryRead]:
    """Oldest first."""
    page = subscriptions.list_deliveries(session, subscription_id=subscription_id, limit=200)
    return list(reversed(page.items))


def _ooxml_unescape(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def _normal(row: dict[str, Any], *, xlsx: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in COLUMNS:
        value = _ooxml_unescape(row.get(column)) if xlsx else row.get(column)
        if column == "payload":
            out[column] = json.loads(value) if isinstance(value, str) else value
        else:
            out[column] = "" if value is None else str(value)
    return out


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a delivery file, whatever its format, as comparable dicts."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            return [_normal(r) for r in csv.DictReader(fh)]
    if path.suffix == ".jsonl":
        lines = path.read_text("utf-8").splitlines()
        return [_normal(json.loads(line)) for line in lines]
    book = load_workbook(path, read_only=True)
    try:
        rows = list(book["records"].iter_rows(values_only=True))
    finally:
        book.close()
    header = [str(h) for h in rows[0]]
    return [_normal(dict(zip(header, r, strict=True)), xlsx=True) for r in rows[1:]]


def delivered_rows(
    session: Session, settings: Settings, subscription_id: str
) -> list[dict[str, Any]]:
    """Every row of every file delivered to a subscription, in delivery order."""
    rows: list[dict[str, Any]] = []
    for d in deliveries(session, subscription_id):
        assert d.file_name is not None
        path, _ = subscriptions.delivery_file(session, settings=settings, delivery_id=d.id)
        rows += read_rows(path)
    return rows
