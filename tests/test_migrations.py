from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from rongxin.config import Settings
from rongxin.db import migrate
from rongxin.db.models import metadata
from rongxin.db.session import build_engine


def test_migrations_match_the_models(engine: Engine) -> None:
    """The suite's database was built by `migrate.upgrade`; the models must agree with it."""
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert migrate.current(engine) is not None


def test_upgrade_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    engine = build_engine(Settings(database_url=f"sqlite:///{tmp_path / 'nested' / 'fresh.db'}"))
    migrate.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"market_entity", "credit_record", "ingest_batch", "alembic_version"} <= tables
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
