"""SQLite writers queue for the write lock on the writer lock (db/session.py): a mutex among a
process's threads, an exclusive file lock among processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from rongxin.access.models import ApiKey
from rongxin.config import Settings
from rongxin.db import migrate
from rongxin.db.base import utcnow
from rongxin.db.session import (
    WRITER_WAIT_SECONDS,
    build_engine,
    holds_sqlite_writer,
    session_factory,
    take_writer,
)


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


HOLD_THE_LOCK = """
import sys
from rongxin.config import Settings
from rongxin.db.session import build_engine, session_factory, take_writer
session = session_factory(build_engine(Settings(database_url=sys.argv[1])))()
take_writer(session)
print("held", flush=True)
sys.stdin.readline()
session.commit()
print("released", flush=True)
"""


def test_writers_of_two_processes_queue_on_the_lock_file(tmp_path: Path) -> None:
    """``rongxin serve --workers N`` runs N processes: their writers queue on an exclusive lock
    of ``<file>-writer.lock`` and wake when it is released, instead of sleeping in SQLite's busy
    handler."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = build_engine(Settings(database_url=url))
    migrate.upgrade(engine)
    got_it = threading.Event()

    def write() -> None:
        with session_factory(engine)() as session:
            take_writer(session)
            got_it.set()
            session.commit()

    with subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, url],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    ) as other:  # fmt: skip
        assert other.stdin is not None
        assert other.stdout is not None
        try:
            assert other.stdout.readline().strip() == "held"
            waiter = threading.Thread(target=write)
            waiter.start()
            assert not got_it.wait(1.0)  # the other process holds it: this writer waits
            other.stdin.write("\n")
            other.stdin.flush()
            assert other.stdout.readline().strip() == "released"
            assert got_it.wait(10)  # and gets it as soon as it is released
            waiter.join(10)
            assert (tmp_path / "w.db-writer.lock").exists()
        finally:
            other.kill()
            engine.dispose()


def test_a_session_not_made_by_the_factory_releases_the_lock_at_its_end(tmp_path: Path) -> None:
    """``take_writer`` on a plain ``Session(bind=…)`` (tests, scripts) must still give the lock
    back when its transaction ends; it used to keep it, and the next writer waited 10 s."""
    engine = build_engine(Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}"))
    migrate.upgrade(engine)
    plain = Session(bind=engine)
    try:
        take_writer(plain)
        assert holds_sqlite_writer(plain)
        plain.commit()
        assert not holds_sqlite_writer(plain)
        got: list[bool] = []
        other = threading.Thread(target=lambda: got.append(_takes_at_once(engine)))
        other.start()
        other.join(timeout=30)
        assert got == [True]
    finally:
        plain.close()
        engine.dispose()


def _takes_at_once(engine: Engine) -> bool:
    with session_factory(engine)() as session:
        start = time.monotonic()
        take_writer(session)
        held = holds_sqlite_writer(session)
        session.rollback()
        return held and time.monotonic() - start < WRITER_WAIT_SECONDS / 2
