"""A server checkpoints SQLite's WAL from its own thread, not inside writers' commits
(db/checkpoint.py)."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from rongxin.app import create_app
from rongxin.config import Environment, Settings
from rongxin.db.checkpoint import WalCheckpointer, checkpoint
from rongxin.db.session import (
    BACKSTOP_PAGES,
    SQLITE_BUSY_TIMEOUT_MS,
    build_engine,
    is_sqlite_file,
    writer_lock,
)

#: one commit's row: about seven 16 KiB pages
_BLOB = b"x" * 100_000


def _engine(path: Path, *, background: bool) -> Engine:
    settings = Settings(database_url=f"sqlite:///{path}")
    return build_engine(settings, background_checkpoints=background)


def _write(engine: Engine, commits: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS blob (id INTEGER PRIMARY KEY, data BLOB)"))
    for _ in range(commits):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO blob (data) VALUES (:data)"), {"data": _BLOB})


def _autocheckpoint(engine: Engine) -> int:
    with engine.connect() as conn:
        pages: int = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    return pages


def test_a_background_engine_leaves_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    background = _engine(tmp_path / "bg.db", background=True)
    default = _engine(tmp_path / "default.db", background=False)
    try:
        assert _autocheckpoint(background) == BACKSTOP_PAGES
        assert _autocheckpoint(default) == 1000  # SQLite's own default
        # about 1,100 pages each: past SQLite's usual checkpoint size, far below the backstop
        _write(background, 160)
        _write(default, 160)
        mine, theirs = checkpoint(background), checkpoint(default)
        assert mine.wal_pages >= 1100  # no commit checkpointed: everything was still in the WAL
        assert mine.checkpointed_pages == mine.wal_pages  # and this checkpoint copied it all
        assert not mine.busy
        assert theirs.wal_pages < 1000  # a commit checkpointed and the WAL started over
    finally:
        background.dispose()
        default.dispose()


def test_the_checkpointer_thread_checkpoints_until_stopped(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "t.db", background=True)
    checkpointer = WalCheckpointer(engine, interval=0.02)
    try:
        checkpointer.start()
        assert checkpointer.running
        _write(engine, 20)
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checkpointer.checkpoints >= 3
        _write(engine, 5)
        before = checkpointer.checkpoints
        checkpointer.stop()
        assert not checkpointer.running
        assert checkpointer.checkpoints > before  # a last checkpoint on the way out
        last = checkpointer.last
        assert last is not None
        assert last.checkpointed_pages == last.wal_pages  # nothing left behind
    finally:
        checkpointer.stop()
        engine.dispose()


def test_a_log_that_readers_keep_growing_is_made_to_start_over(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "r.db", background=True)
    passive_only = WalCheckpointer(engine, restart_pages=10**9)
    try:
        _write(engine, 20)  # about 140 pages, none checkpointed yet
        with engine.connect() as reader:
            reader.exec_driver_sql("BEGIN")
            reader.exec_driver_sql("SELECT count(*) FROM blob").scalar_one()  # holds a WAL snapshot
            passive = passive_only.run_once()
            assert passive is not None
            assert not passive.restarted
            assert passive.checkpointed_pages == passive.wal_pages >= 100
            _write(engine, 1)  # the reader still uses the log: the writer appends to it
            assert checkpoint(engine).wal_pages > passive.wal_pages
            reader.exec_driver_sql("COMMIT")
        restarting = WalCheckpointer(engine, restart_pages=passive.wal_pages // 2)
        result = restarting.run_once()
        assert result is not None
        assert result.restarted
        assert restarting.restarts == 1
        _write(engine, 1)  # the next writer starts the log over
        assert checkpoint(engine).wal_pages < 20
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM blob").scalar_one() == 22
    finally:
        engine.dispose()


def test_a_restart_gives_up_soon_on_a_reader_still_in_the_log(tmp_path: Path) -> None:
    """The restart runs under the writer lock; a reader still in the log may be a transaction
    that waits for that lock to write. So the restart waits for readers briefly, not for
    SQLite's usual 10 s, and tries again next time."""
    engine = _engine(tmp_path / "d.db", background=True)
    try:
        _write(engine, 20)
        with engine.connect() as reader:
            reader.exec_driver_sql("BEGIN")
            reader.exec_driver_sql("SELECT count(*) FROM blob").scalar_one()  # holds a WAL snapshot
            _write(engine, 1)
            started = time.monotonic()
            with writer_lock(engine):
                result = checkpoint(engine, "RESTART")
            waited = time.monotonic() - started
            reader.exec_driver_sql("COMMIT")
        assert result.busy
        assert not result.restarted
        assert waited < SQLITE_BUSY_TIMEOUT_MS / 1000 / 2  # gave up; did not wait the 10 s out
        # every pooled connection (the restart's among them) waits as long as ever again
        with contextlib.ExitStack() as stack:
            pooled = [stack.enter_context(engine.connect()) for _ in range(4)]
            timeouts = {c.exec_driver_sql("PRAGMA busy_timeout").scalar_one() for c in pooled}
        assert timeouts == {SQLITE_BUSY_TIMEOUT_MS}
    finally:
        engine.dispose()


def test_a_checkpoint_that_fails_is_logged_and_the_thread_goes_on(tmp_path: Path) -> None:
    engine = _engine(tmp_path / "gone" / "x.db", background=True)
    (tmp_path / "gone").rmdir()  # the folder build_engine made is gone: connecting fails
    checkpointer = WalCheckpointer(engine, interval=0.01)
    try:
        assert checkpointer.run_once() is None
        assert checkpointer.checkpoints == 0
        checkpointer.start()
        time.sleep(0.05)
        assert checkpointer.running  # failures do not end the thread
    finally:
        checkpointer.stop()
        engine.dispose()


def test_only_sqlite_files_have_a_wal_to_checkpoint(tmp_path: Path) -> None:
    memory = build_engine(Settings(database_url="sqlite://"), background_checkpoints=True)
    other = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        assert not is_sqlite_file(memory)
        assert _autocheckpoint(memory) == 1000  # nothing to take over
        assert not is_sqlite_file(other)
        with pytest.raises(ValueError, match="SQLite"):
            WalCheckpointer(other)
        with pytest.raises(ValueError, match="interval"):
            WalCheckpointer(_engine(tmp_path / "i.db", background=True), interval=0)
    finally:
        memory.dispose()
        other.dispose()


def test_a_server_on_sqlite_runs_the_checkpointer_while_it_is_up(tmp_path: Path) -> None:
    settings = Settings(
        environment=Environment.test,
        database_url=f"sqlite:///{tmp_path / 'server.db'}",
        data_dir=tmp_path / "var",
    )
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        checkpointer = app.state.wal_checkpointer
        assert isinstance(checkpointer, WalCheckpointer)
        assert checkpointer.running
        assert _autocheckpoint(app.state.engine) == BACKSTOP_PAGES
    assert not checkpointer.running  # stopped with the server
