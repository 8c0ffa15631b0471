"""Report fixtures: the seeded entity (report_factories), a catalog and API keys."""

from __future__ import annotations

import pytest
from institution_factories import key_headers, onboard
from report_factories import Seeded, seed_report_data
from sqlalchemy.orm import Session

from rongxin.access.schemas import PrincipalKind
from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog


@pytest.fixture
def catalog() -> Catalog:
    return catalog_service.load_catalog()


@pytest.fixture
def seeded(session: Session) -> Seeded:
    """The report data, and the institution the tests ask as (onboarded, all purposes)."""
    onboard(session, "bank_fz_001")
    return seed_report_data(session)


def _token(session: Session, kind: PrincipalKind, code: str) -> dict[str, str]:
    return key_headers(session, kind, code)


@pytest.fixture
def institution_headers(session: Session) -> dict[str, str]:
    return _token(session, PrincipalKind.institution, "bank_fz_001")


@pytest.fixture
def operator_headers(session: Session) -> dict[str, str]:
    return _token(session, PrincipalKind.operator, "ops")


@pytest.fixture
def provider_headers(session: Session) -> dict[str, str]:
    return _token(session, PrincipalKind.provider, "samr")
