"""Typed factories and file writers for the market-entity tests."""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from rongxin.db.base import utcnow
from rongxin.entities import search as entity_search
from rongxin.entities import uscc
from rongxin.entities.models import EntityNameGram, MarketEntity

BODY_ALPHABET = uscc.ALPHABET

REGISTRATION_HEADER = [
    "uscc",
    "name",
    "legal_rep_name",
    "legal_rep_id_number",
    "registered_capital",
    "establish_date",
    "industry_code",
    "region_code",
    "address",
    "business_scope",
    "status",
    "registration_authority",
]
ANNUAL_HEADER = [
    "uscc",
    "report_year",
    "employees",
    "revenue",
    "total_assets",
    "total_liabilities",
    "net_profit",
    "tax_total",
    "submitted_date",
]


def make_uscc(
    prefix: str = "91", region: str = "350102", body: str | None = None, *, seed: int = 0
) -> str:
    """A code that passes every check (organization and position-18 check characters)."""
    rng = random.Random(seed)
    body = body or "".join(rng.choice(BODY_ALPHABET) for _ in range(8))
    first17 = prefix + region + body + uscc.organization_check_character(body)
    return first17 + uscc.check_character(first17)


def registration_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "uscc": make_uscc(),
        "name": "福州市鼓楼区榕城软件科技有限公司",
        "legal_rep_name": "林某某",
        "legal_rep_id_number": "",
        "registered_capital": "500",
        "establish_date": "2015-06-01",
        "industry_code": "6513",
        "region_code": "350102",
        "address": "福州市鼓楼区五四路1号",
        "business_scope": "软件开发",
        "status": "存续",
        "registration_authority": "福州市鼓楼区市场监督管理局",
    }
    row.update(overrides)
    return row


def annual_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "uscc": make_uscc(),
        "report_year": "2023",
        "employees": "30",
        "revenue": "800",
        "total_assets": "1200",
        "total_liabilities": "300",
        "net_profit": "50",
        "tax_total": "20",
        "submitted_date": "2024-05-20",
    }
    row.update(overrides)
    return row


def write_csv(path: Path, header: list[str], rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def create_entity(session: Session, **overrides: Any) -> MarketEntity:
    values: dict[str, Any] = {
        "uscc": make_uscc(seed=99),
        "name": "厦门市思明区鹭岛贸易有限公司",
        "entity_type": "enterprise",
        "region_code": "350203",
        "industry_code": "5191",
        "industry_section": "F",
        "legal_rep_name": "陈某",
        "registered_capital": 100.0,
        "establish_date": date(2018, 3, 1),
        "status": "存续",
        "origin_node": "test-node",
        "updated_at": utcnow(),
    }
    values.update(overrides)
    entity = MarketEntity(**values)
    session.add(entity)
    session.flush()
    session.add_all(
        EntityNameGram(gram=g, uscc=entity.uscc) for g in entity_search.name_grams(entity.name)
    )
    session.flush()
    return entity
