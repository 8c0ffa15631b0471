"""Report fixtures: the seeded entity (report_factories), a catalog and API keys."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind
from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog

_TESTS = Path(__file__).resolve().parents[1]
for _folder in ("records", "entities"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / _folder))

from report_factories import Seeded, seed_report_data  # noqa: E402


@pytest.fixture
def catalog() -> Catalog:
    return catalog_service.load_catalog()


@pytest.fixture
def seeded(session: Session) -> Seeded:
    return seed_report_data(session)


def _token(session: Session, kind: PrincipalKind, code: str) -> dict[str, str]:
    created = access_service.create_api_key(session, kind=kind, code=code)
    return {"Authorization": f"Bearer {created.token}"}


@pytest.fixture
def institution_headers(session: Session) -> dict[str, str]:
    return _token(session, PrincipalKind.institution, "bank_fz_001")


@pytest.fixture
def operator_headers(session: Session) -> dict[str, str]:
    return _token(session, PrincipalKind.operator, "ops")


@pytest.fixture
def provider_headers(session: Session) -> dict[str, str]:
    return _token(session, PrincipalKind.provider, "samr")
