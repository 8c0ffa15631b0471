"""Helpers shared by the page tests (importable as ``web_helpers``: tests/web is on the path)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from rongxin.catalog.schemas import Catalog
from rongxin.ingest.schemas import BatchResult
from rongxin.ingest.service import Delivery, ingest_file

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: TestClient, token: str, *, next_url: str = "/") -> None:
    form = client.get("/signin")
    assert form.status_code == 200
    r = client.post(
        "/signin",
        data={"token": token, "csrf": csrf_of(form.text), "next": next_url},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == next_url


def ingest(session: Session, catalog: Catalog, path: Path, provider: str, item: str) -> BatchResult:
    delivery = Delivery(path=path, provider_code=provider, item_code=item)
    return ingest_file(session, catalog=catalog, delivery=delivery, origin_node="test-node")


def bad_copy(source: Path, target: Path, *, field: str, value: str, row: int = 1) -> Path:
    """``source`` with ``field`` of data row ``row`` set to ``value`` (a rejected delivery)."""
    with source.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[row - 1][field] = value
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target
