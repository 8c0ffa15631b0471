"""Test fixtures: one schema per run, one rolled-back transaction per test (STYLE.md rule 12).

The suite runs on SQLite by default and on PostgreSQL when RONGXIN_TEST_DATABASE_URL points
there (``make test-pg``; .ci/run runs both).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from app_support import use_test_session
from fastapi.testclient import TestClient
from institution_factories import institution_token
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind
from rongxin.app import create_app
from rongxin.config import Environment, Settings
from rongxin.db import migrate
from rongxin.db.models import metadata
from rongxin.db.session import build_engine


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("RONGXIN_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment=Environment.test,
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("var"),
        node_id="test-node",
    )


def _sqlite_savepoints(engine: Engine) -> None:
    """SQLAlchemy's recipe for SAVEPOINT on pysqlite: the driver begins transactions lazily
    (before the first write), so a test session's savepoint could commit the outer transaction
    when a request commits. With explicit BEGIN, a commit inside a test releases only its
    savepoint and everything is still rolled back after the test."""

    @event.listens_for(engine, "connect")
    def _manual(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = build_engine(settings)
    if engine.dialect.name == "sqlite":
        _sqlite_savepoints(engine)
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    migrate.upgrade(engine)
    # Tables added since the last migration (during development) are created directly;
    # tests/test_migrations.py fails until a migration covers them.
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        trans = conn.begin()
        sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield sess
        finally:
            sess.close()
            trans.rollback()


@pytest.fixture
def client(settings: Settings, session: Session) -> Iterator[TestClient]:
    app = create_app(settings)
    use_test_session(app, session)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture
def make_token(session: Session) -> Callable[[str, str], str]:
    """An API key (institutions: onboarded, with a token) of ``kind``/``code``."""

    def make(kind: str, code: str) -> str:
        if PrincipalKind(kind) is PrincipalKind.institution:
            return institution_token(session, code)
        return access_service.create_api_key(session, kind=PrincipalKind(kind), code=code).token

    return make
