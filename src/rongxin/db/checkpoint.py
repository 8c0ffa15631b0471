"""WAL checkpoints of a SQLite database off the write path (a server's, see ``rongxin.app``).

In WAL mode every commit appends its pages to ``<file>-wal``; a checkpoint copies them back
into the database file and syncs both. By default SQLite runs it inside the commit that takes
the WAL past ``wal_autocheckpoint`` pages (1,000), in the committing connection — while the
node's writer lock is still held. Under a server's steady stream of small group-commit batches
(a report issuance batch dirtied about 60 pages of 16 KiB), about every seventeenth batch paid
for copying 16 MB and two ``fsync``s, and every other writer of the node waited behind it
(docs/benchmarks.md).

A server therefore opens its engine with ``build_engine(…, background_checkpoints=True)``: its
connections checkpoint only far past the usual size (``db.session.BACKSTOP_PAGES``, should this
thread stop), and a :class:`WalCheckpointer` thread runs a ``PASSIVE`` checkpoint every
:data:`DEFAULT_INTERVAL` seconds on its own connection. A passive checkpoint takes no lock that
writers wait for: they go on appending while it copies what no reader still needs, and a page
that many batches rewrote (an index's hot leaf) is copied once.

The WAL file starts over only when a writer begins with every frame copied and no reader still
using the log; with readers always busy and writers from several processes that moment may not
come, and the log would only grow. So once it holds :data:`DEFAULT_RESTART_PAGES`, the
checkpointer takes the node's writer lock (writers queue behind it) and runs a ``RESTART``
checkpoint, which copies the few frames written since the passive one and waits for the readers
still in the log (at most :data:`RESTART_WAIT_MS`, else it tries again next time) — the next
writer then starts the log over. Several processes of
one server may each run a checkpointer; a passive checkpoint that meets another returns at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final, Literal

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from rongxin.db.session import SQLITE_BUSY_TIMEOUT_MS, is_sqlite_file, writer_lock
from rongxin.logging import get_logger

log = get_logger(__name__)

#: seconds between two checkpoints
DEFAULT_INTERVAL: Final = 0.25
#: the WAL size (pages) past which the checkpointer makes the log start over (256 MiB of 16 KiB)
DEFAULT_RESTART_PAGES: Final = 16_384
#: how long a restart waits for readers to leave the log before it gives up for this round
RESTART_WAIT_MS: Final = 100

Mode = Literal["PASSIVE", "RESTART"]


@dataclass(frozen=True, slots=True)
class CheckpointResult:
    """What one checkpoint did: the WAL's size and how much of it is now in the database file
    (both in pages); ``busy`` when another checkpoint or a reader kept it from finishing."""

    busy: bool
    wal_pages: int
    checkpointed_pages: int
    restarted: bool = False


def checkpoint(engine: Engine, mode: Mode = "PASSIVE") -> CheckpointResult:
    """Run one checkpoint of ``engine``'s SQLite database now.

    ``RESTART`` waits in SQLite's busy handler for readers still in the log, but for at most
    :data:`RESTART_WAIT_MS`: a reader may itself be waiting for the writer lock the caller holds
    (a transaction that reads, then writes), and the two would otherwise wait for each other
    until a timeout. Given up, it is ``busy`` and tried again at the next interval."""
    with engine.connect() as connection:
        if mode == "RESTART":
            connection.exec_driver_sql(f"PRAGMA busy_timeout={RESTART_WAIT_MS}")
        try:
            busy, wal_pages, done = connection.exec_driver_sql(
                f"PRAGMA wal_checkpoint({mode})"
            ).one()
        finally:
            if mode == "RESTART":  # the pooled connection goes back as it came
                connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    return CheckpointResult(
        busy=bool(busy),
        wal_pages=wal_pages,
        checkpointed_pages=done,
        restarted=mode == "RESTART" and not busy,
    )


class WalCheckpointer:
    """One thread that checkpoints a SQLite database's WAL every ``interval`` seconds and makes
    it start over past ``restart_pages`` (see the module doc); ``stop()`` runs a last checkpoint
    and joins it."""

    def __init__(
        self,
        engine: Engine,
        *,
        interval: float = DEFAULT_INTERVAL,
        restart_pages: int = DEFAULT_RESTART_PAGES,
        name: str = "rongxin-wal-checkpoint",
    ) -> None:
        if not is_sqlite_file(engine):
            raise ValueError("WAL checkpoints are for SQLite database files")
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._engine = engine
        self._interval = interval
        self._restart_pages = restart_pages
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.checkpoints = 0
        self.restarts = 0
        self.last: CheckpointResult | None = None

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_once(self) -> CheckpointResult | None:
        """One passive checkpoint, and a restart when the log has grown past ``restart_pages``;
        ``None`` when the database could not be reached (logged)."""
        try:
            result = checkpoint(self._engine)
            if result.wal_pages >= self._restart_pages:
                with writer_lock(self._engine):
                    result = checkpoint(self._engine, "RESTART")
                self.restarts += result.restarted
        except OperationalError as exc:
            log.warning("wal_checkpoint_failed", error=str(exc.orig).splitlines()[0])
            return None
        self.checkpoints += 1
        self.last = result
        return result

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            self.run_once()
        self.run_once()  # what the last writes left in the WAL
