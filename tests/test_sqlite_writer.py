"""SQLite sessions of one process queue for the write lock on a mutex (db/session.py)."""

from __future__ import annotations

from pathlib import Path

from rongxin.access.models import ApiKey
from rongxin.config import Settings
from rongxin.db import migrate
from rongxin.db.base import utcnow
from rongxin.db.session import build_engine, holds_sqlite_writer, session_factory


def _key(key_id: str) -> ApiKey:
    return ApiKey(
        key_id=key_id, principal_kind="operator", principal_code="ops", label="",
        secret_sha256="0" * 64, created_at=utcnow(),
    )  # fmt: skip


def test_the_writer_mutex_is_held_from_first_flush_to_transaction_end(tmp_path: Path) -> None:
    engine = build_engine(Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}"))
    migrate.upgrade(engine)
    factory = session_factory(engine)
    first, second = factory(), factory()
    try:
        first.get(ApiKey, "nope")  # reading takes nothing
        assert not holds_sqlite_writer(first)
        first.add(_key("a1"))
        first.flush()
        assert holds_sqlite_writer(first)
        first.add(_key("a2"))
        first.flush()  # a second flush in the same transaction does not take it twice
        first.commit()
        assert not holds_sqlite_writer(first)
        second.add(_key("b1"))
        second.flush()  # free again: the next writer gets it at once
        assert holds_sqlite_writer(second)
        second.rollback()
        assert not holds_sqlite_writer(second)
        assert {k.key_id for k in first.query(ApiKey)} == {"a1", "a2"}
    finally:
        first.close()
        second.close()
        engine.dispose()
