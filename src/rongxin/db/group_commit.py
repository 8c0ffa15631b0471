"""Group commit: many small writes from many callers, one transaction and one commit per batch.

A request that must durably write a little (an access-log entry, a report issuance) would
otherwise pay a whole commit — on SQLite an fsync'ed WAL write under the single write lock, on
PostgreSQL a WAL flush — per request. ``GroupCommitWriter`` runs one background thread with its
own sessions from the session factory. Callers hand it a function ``fn(session) -> T``:

* ``await writer.submit(fn)`` from async code, ``writer.submit_sync(fn)`` from threads;
* or a :class:`Batched` call — one function for many callers' arguments,
  ``fn(session, [arg, …]) -> [result or exception, …]`` — so that work which is cheaper in bulk
  (one multi-row INSERT, one quota statement, one lock of a chain head) is done once per batch;
  a returned exception fails only its own caller;
* the thread waits for the write lock (SQLite's, ``db.session.take_writer``: whatever arrives
  while another writer holds it joins the batch), then takes everything queued (at most
  ``max_batch``), runs all the functions in ONE transaction (the batched calls of one function
  together, in the order they came), commits, and only then resolves each caller with its
  function's result — a caller's await returns after its write is committed (durable);
* if the batch fails (a function raises, or the commit does), every function is run again
  alone, in its own transaction: one bad item fails only its own caller, with its exception.
  Functions must therefore only do database work through the session they are given (they may
  run twice) and must not commit;
* the queue is bounded (``max_queue``): when it is full, submitters wait (backpressure);
* ``stop()`` refuses new work, drains everything already queued, and joins the thread.

Work that was submitted always runs, even if the awaiting task is cancelled (an access that
happened stays logged). The writer is generic: it knows nothing about what the functions write.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from rongxin.db.session import take_writer
from rongxin.errors import ServiceUnavailable
from rongxin.logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")
A = TypeVar("A")

DEFAULT_MAX_BATCH: Final = 500
DEFAULT_MAX_QUEUE: Final = 10_000


@dataclass(frozen=True, slots=True)
class Batched(Generic[A, T]):
    """One caller's argument to a function that does the work of a whole batch of callers:
    ``fn(session, args)`` returns one result per argument, in order; a result that is an
    exception is raised to its caller alone. ``fn`` must be a module-level function (calls are
    grouped by it) that only does database work through the session (it may run twice)."""

    fn: Callable[[Session, list[A]], list[T | Exception]]
    arg: A


#: what a job runs: a function of the session, or one argument of a batched call
Work = Callable[[Session], T] | Batched[Any, T]


@dataclass(slots=True)
class _Job(Generic[T]):
    work: Work[T]
    future: Future[T]


class _Stop:
    """The marker that ends the queue: everything before it is drained first."""


_STOP: Final = _Stop()


@dataclass(slots=True)
class GroupCommitStats:
    """What the writer has done so far (for tests, benchmarks and metrics)."""

    batches: int = 0
    jobs: int = 0
    failed_jobs: int = 0
    largest_batch: int = 0
    retried_batches: int = 0
    batch_sizes: list[int] = field(default_factory=list)  # the last 1,000 batch sizes

    def _record(self, size: int) -> None:
        self.batches += 1
        self.jobs += size
        self.largest_batch = max(self.largest_batch, size)
        self.batch_sizes.append(size)
        del self.batch_sizes[:-1000]


class GroupCommitWriter:
    """One writer thread that commits queued database work in batches (see the module doc)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_queue: int = DEFAULT_MAX_QUEUE,
        name: str = "rongxin-group-commit",
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self._factory = factory
        self._max_batch = max_batch
        self._name = name
        self._queue: queue.SimpleQueue[_Job[Any] | _Stop] = queue.SimpleQueue()
        self._slots = threading.BoundedSemaphore(max_queue)  # one per queued, unfinished job
        self._lock = threading.Lock()  # orders "closed?" checks with enqueueing
        self._closed = False
        self._pending = 0  # submitted and not yet finished
        self._thread: threading.Thread | None = None
        self.stats = GroupCommitStats()

    # ---- lifecycle ------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Jobs submitted and not yet finished (queued or in the running batch)."""
        return self._pending

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._closed

    def start(self) -> None:
        """Start the writer thread (once)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("a stopped GroupCommitWriter cannot be restarted")
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Refuse new work, run everything already queued, then end the thread."""
        with self._lock:
            if self._closed:
                thread = self._thread
            else:
                self._closed = True
                self._queue.put(_STOP)
                thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        elif thread is None:  # never started: nothing will run what is queued
            self._fail_queued(ServiceUnavailable("the group-commit writer was never started"))

    # ---- submitting -----------------------------------------------------------------------

    async def submit(self, work: Work[T]) -> T:
        """Run ``work`` (``fn(session)``, or a :class:`Batched` call) in the next batch; returns
        its result once committed."""
        if not self._slots.acquire(blocking=False):
            await self._wait_for_slot()
        future = self._enqueue(work)
        # shield: cancelling the caller does not withdraw work that is already queued
        return await asyncio.shield(asyncio.wrap_future(future))

    def submit_sync(self, work: Work[T], timeout: float | None = None) -> T:
        """Like :meth:`submit`, for threads; blocks until committed (or ``timeout``)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("submit_sync called from the writer thread would wait forever")
        self._slots.acquire()
        return self._enqueue(work).result(timeout)

    async def _wait_for_slot(self) -> None:
        loop = asyncio.get_running_loop()
        waiting = loop.run_in_executor(None, self._slots.acquire)
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # the executor thread still takes the slot: give it back when it does
            waiting.add_done_callback(lambda _done: self._slots.release())
            raise

    def _enqueue(self, work: Work[T]) -> Future[T]:
        """Queue a job (its slot is already taken)."""
        future: Future[T] = Future()
        with self._lock:
            if self._closed or self._thread is None:
                self._slots.release()
                raise ServiceUnavailable("the group-commit writer is not running")
            self._pending += 1
            self._queue.put(_Job(work, future))
        return future

    # ---- the writer thread ----------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if isinstance(first, _Stop):
                break
            batch: list[_Job[Any]] = [first]
            try:
                outcome, stopping = self._write(batch, gather=True)
                self.stats._record(len(batch))
                self._settle(batch, outcome)
            except BaseException as exc:  # never leave a caller waiting, even on a crash
                log.error("group_commit_crashed", error=type(exc).__name__)
                with self._lock:
                    self._closed = True
                self._finish(batch, exc)
                self._fail_queued(ServiceUnavailable("the group-commit writer stopped"))
                raise

    def _write(
        self, batch: list[_Job[Any]], *, gather: bool = False
    ) -> tuple[list[Any] | Exception, bool]:
        """Run ``batch`` in one transaction and commit: the results, or why it failed (the
        session's end rolls back and releases the lock) — and whether the stop marker was met.

        The writer queues for SQLite's write lock (see db/session.py) BEFORE it ``gather``s what
        else is queued: whatever arrives while another writer holds the lock joins the batch."""
        stopping = False
        try:
            with self._factory() as session:
                take_writer(session)
                if gather:
                    stopping = self._gather(batch)
                results = _run_jobs(session, batch)
                session.commit()
        except Exception as exc:  # a job, the commit, or no session or lock at all
            return exc, stopping
        return results, stopping

    def _gather(self, batch: list[_Job[Any]]) -> bool:
        """Add what is queued to ``batch`` (at most ``max_batch`` in all); whether the stop
        marker was met."""
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False
            if isinstance(item, _Stop):
                return True
            batch.append(item)
        return False

    def _settle(self, batch: list[_Job[Any]], outcome: list[Any] | Exception) -> None:
        """Hand out a batch's results; when it failed, fail a lone job, or run every job again
        alone (one bad job fails only its own caller)."""
        if not isinstance(outcome, Exception):
            self._resolve(batch, outcome)
        elif len(batch) == 1:
            self.stats.failed_jobs += 1
            self._finish(batch, outcome)
        else:
            self.stats.retried_batches += 1
            log.info("group_commit_batch_retried", size=len(batch), error=type(outcome).__name__)
            for job in batch:
                self._settle([job], self._write([job])[0])

    def _resolve(self, jobs: list[_Job[Any]], results: list[Any]) -> None:
        """Hand each caller its result, or the exception its batched call returned for it."""
        for job, result in zip(jobs, results, strict=True):
            self._done(job)
            if isinstance(job.work, Batched) and isinstance(result, Exception):
                self.stats.failed_jobs += 1
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    def _done(self, job: _Job[Any]) -> None:
        """Free the job's queue slot (before its caller is woken, so counts are current)."""
        with self._lock:
            self._pending -= 1
        self._slots.release()

    def _finish(self, jobs: list[_Job[Any]], exc: BaseException) -> None:
        for job in jobs:
            if not job.future.done():
                self._done(job)
                job.future.set_exception(exc)

    def _fail_queued(self, exc: BaseException) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Job):
                self._finish([item], exc)


def _run_jobs(session: Session, jobs: list[_Job[Any]]) -> list[Any]:
    """Run ``jobs`` in ``session``: plain functions one by one, each batched function once for
    all of its arguments (at the place of its first job); results in the jobs' order."""
    results: list[Any] = [None] * len(jobs)
    batched: dict[Callable[..., Any], list[int]] = {}
    for n, job in enumerate(jobs):
        if isinstance(job.work, Batched):
            batched.setdefault(job.work.fn, []).append(n)
    done: set[Callable[..., Any]] = set()
    for n, job in enumerate(jobs):
        work = job.work
        if not isinstance(work, Batched):
            results[n] = work(session)
            continue
        if work.fn in done:
            continue
        done.add(work.fn)
        positions = batched[work.fn]
        args = [
            job.work.arg for job in (jobs[p] for p in positions) if isinstance(job.work, Batched)
        ]
        answers = work.fn(session, args)
        if len(answers) != len(positions):
            raise RuntimeError(f"{work.fn.__name__} answered {len(answers)} of {len(positions)}")
        for p, answer in zip(positions, answers, strict=True):
            results[p] = answer
    return results


def run_now(session: Session, work: Work[T]) -> T:
    """Run ``work`` at once in ``session``'s transaction, as a batch of one (for callers and
    tests that log in their own transaction); a batched call's exception is raised."""
    if not isinstance(work, Batched):
        return work(session)
    answer = work.fn(session, [work.arg])[0]
    if isinstance(answer, Exception):
        raise answer
    return answer
