"""Engine construction (with SQLite pragmas) and the one transaction scope used at the edges."""

from __future__ import annotations

import fcntl
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from rongxin.config import Settings
from rongxin.errors import ServiceUnavailable

#: SQLite connections kept open per engine (see build_engine)
SQLITE_POOL_SIZE: Final = 16
#: how long a SQLite statement waits for a lock before "database is locked"
SQLITE_BUSY_TIMEOUT_MS: Final = 10_000
#: with background checkpoints, the WAL size (pages) at which a committing connection
#: checkpoints after all: reached only if the checkpointer stops (1 GiB of 16 KiB pages)
BACKSTOP_PAGES: Final = 65_536


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # 16 KiB pages for new database files (a no-op on existing ones): shallower B-trees and
    # fewer page writes; bulk loads measured ≈ 1.2–1.5× faster than with 4 KiB
    # (docs/benchmarks.md). Must precede WAL, which fixes the page size.
    cur.execute("PRAGMA page_size=16384")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA cache_size=-262144")  # 256 MiB page cache: bulk loads touch big indexes
    cur.close()


def _redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _sqlite_backstop_checkpoints(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    cur.close()


def build_engine(settings: Settings, *, background_checkpoints: bool = False) -> Engine:
    """Create the engine for ``settings.database_url``; SQLite files get their folder made.

    ``background_checkpoints``: a SQLite file's WAL is checkpointed by a
    ``rongxin.db.checkpoint.WalCheckpointer`` the caller runs, not by the connection that
    commits past the usual size (a server: see that module)."""
    try:
        url = make_url(settings.database_url)
    except ArgumentError as exc:
        raise ServiceUnavailable(
            f"RONGXIN_DATABASE_URL is not a valid database URL: {_redact(settings.database_url)}"
        ) from exc
    kwargs: dict[str, Any] = {"echo": settings.database_echo, "future": True}
    if url.get_backend_name() == "sqlite":
        if url.database and _in_a_file(url):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            # Connections are cheap to keep and dear to open: each new one runs the pragmas
            # and starts with a cold page cache. The pool holds as many as a server's request
            # threads and its writer use at once (SQLAlchemy's default of 5 made a busy server
            # open and close connections on every burst).
            kwargs.update(pool_size=SQLITE_POOL_SIZE, max_overflow=32)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if background_checkpoints and is_sqlite_file(engine):
            event.listen(engine, "connect", _sqlite_backstop_checkpoints)
    else:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    return engine


def is_sqlite_file(engine: Engine) -> bool:
    """A SQLite database in a file (not in memory): one with a WAL to checkpoint and a writer
    lock file."""
    return engine.dialect.name == "sqlite" and _in_a_file(engine.url)


def _in_a_file(url: URL) -> bool:
    return bool(url.database) and url.database != ":memory:"


def check_connection(engine: Engine) -> None:
    """Fail with a clear message when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ServiceUnavailable(
            f"cannot connect to the database at {_redact(str(engine.url))}: {reason}. "
            "Check RONGXIN_DATABASE_URL and that the server is running."
        ) from exc


#: how SQLite and PostgreSQL name a table a statement needs that does not exist
_MISSING_TABLE: Final = re.compile(r'no such table: ([\w.]+)|relation "([^"]+)" does not exist')


def missing_table(exc: BaseException) -> str | None:
    """The table a statement failed on because the database does not have it — the schema was
    never applied (``rongxin db upgrade``), or the URL names another database — else None."""
    if not isinstance(exc, DBAPIError):
        return None
    found = _MISSING_TABLE.search(str(exc.orig))
    return (found.group(1) or found.group(2)) if found else None


def no_schema_message(settings: Settings, table: str) -> str:
    """What to do when the database at ``settings.database_url`` lacks ``table``."""
    return (
        f"the database {_redact(settings.database_url)} has no table {table}: its schema was "
        "never created. Run `rongxin db upgrade` to create it, or set RONGXIN_DATABASE_URL to "
        "the database you mean (after `make demo`: sqlite:///var/demo.db)"
    )


def is_sqlite_busy(exc: OperationalError) -> bool:
    """SQLite refused a write because another connection holds or just committed the write
    lock (``SQLITE_BUSY``/``SQLITE_BUSY_SNAPSHOT``, reported as "database is locked")."""
    return "database is locked" in str(exc.orig)


# SQLite admits one writer; a waiting writer sleeps in SQLite's busy handler (1 ms … 100 ms
# steps), so under concurrent writers the waits, not the writes, make the latency. Sessions
# queue for the write lock on a writer lock instead, taken at a session's first flush (or by
# :func:`take_writer`) and released when its transaction ends: a mutex among the threads of a
# process, and for a database file also an exclusive ``flock`` on ``<file>-writer.lock`` among
# processes (``rongxin serve --workers N``, CLI jobs). A waiter wakes the moment the holder
# releases it. Writers that do not take it (raw connections) still meet SQLite's own lock.
_HOLDS_WRITER = "rongxin_sqlite_writer"
WRITER_WAIT_SECONDS = 10.0


class _WriterLock:
    """The writer lock of one SQLite database (see above)."""

    def __init__(self, lock_file: str | None) -> None:
        self._mutex = threading.Lock()
        self._path = lock_file  # None: one process only (an in-memory database)
        self._fd: int | None = None

    def acquire(self) -> bool:
        if not self._mutex.acquire(timeout=WRITER_WAIT_SECONDS):
            return False
        if self._path is not None:
            try:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)  # sleeps until the other process releases
            except OSError:
                # an unlockable folder (read-only, no flock): SQLite's own lock still guards
                # the data; only the queueing across processes is lost
                pass
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._mutex.release()


_WRITER_LOCKS: dict[str, _WriterLock] = {}
_WRITER_LOCKS_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> _WriterLock | None:
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database or ":memory:"
    with _WRITER_LOCKS_GUARD:
        lock = _WRITER_LOCKS.get(database)
        if lock is None:
            in_a_file = is_sqlite_file(engine)
            lock_file = f"{os.path.abspath(database)}-writer.lock" if in_a_file else None
            lock = _WRITER_LOCKS[database] = _WriterLock(lock_file)
        return lock


def take_writer(session: Session) -> None:
    """Queue for SQLite's write lock now (a no-op on other databases, or when already held):
    for work that writes through Core statements before any flush, e.g. a group-commit
    batch."""
    if session.info.get(_HOLDS_WRITER):
        return
    lock = _writer_lock(session.get_bind().engine)
    if lock is None:
        return
    session.connection()  # within a transaction, whose end releases the lock
    if lock.acquire():
        session.info[_HOLDS_WRITER] = lock


@contextmanager
def writer_lock(engine: Engine) -> Iterator[None]:
    """Hold the writer lock of ``engine``'s SQLite database outside any session, so that the
    node's writers queue behind the caller (a no-op on other databases). After
    ``WRITER_WAIT_SECONDS`` without it the caller goes on: SQLite's own lock still guards the
    data."""
    lock = _writer_lock(engine)
    held = lock is not None and lock.acquire()
    try:
        yield
    finally:
        if held and lock is not None:
            lock.release()


def _take_writer(session: Session, _context: object, _instances: object) -> None:
    take_writer(session)


def _release_writer(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        lock = session.info.pop(_HOLDS_WRITER, None)
        if lock is not None:
            lock.release()


# Every session releases the lock when its transaction ends, whoever made it (a factory's, or a
# plain ``Session(bind=…)`` as tests and scripts make): a held lock is never left behind.
event.listen(Session, "after_transaction_end", _release_writer)


def holds_sqlite_writer(session: Session) -> bool:
    return bool(session.info.get(_HOLDS_WRITER))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    if engine.dialect.name == "sqlite":
        event.listen(factory, "before_flush", _take_writer)
    return factory


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error. Only edges call this."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
