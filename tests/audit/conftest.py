"""Access-log fixtures: settings with a short checkpoint interval, a catalog, API keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from audit_factories import committed_audit
from institution_factories import key_headers
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from rongxin.access.schemas import PrincipalKind
from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.db.session import build_engine


@pytest.fixture
def audit_settings(settings: Settings) -> Settings:
    """The test settings with a real secret key and a checkpoint every 2 entries."""
    return settings.model_copy(update={"secret_key": "test-secret", "audit_checkpoint_every": 2})


@pytest.fixture
def catalog() -> Catalog:
    return catalog_service.load_catalog()


@pytest.fixture
def headers(session: Session) -> Callable[[PrincipalKind, str], dict[str, str]]:
    def make(kind: PrincipalKind, code: str) -> dict[str, str]:
        return key_headers(session, kind, code)

    return make


@pytest.fixture
def committed_engine(engine: Engine, settings: Settings) -> Iterator[Engine]:
    """An engine as the product builds it (the rolled-back test sessions' engine handles
    transactions for savepoints), for tests that commit; audit tables are emptied before
    and after. ``engine`` has created the schema."""
    own = build_engine(settings)
    try:
        with committed_audit(own) as eng:
            yield eng
    finally:
        own.dispose()
