"""The group-commit writer on the test database (SQLite or PostgreSQL): batching, durability,
failure isolation, backpressure and shutdown. A gate job holds the writer thread while the test
queues work, so batching is observed without timing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from rongxin.app import create_app
from rongxin.config import Settings
from rongxin.db.group_commit import Batched, GroupCommitWriter, run_now
from rongxin.db.session import session_factory
from rongxin.deps import GroupCommitDep
from rongxin.errors import ServiceUnavailable

probe_metadata = MetaData()
probe = Table(
    "group_commit_probe",
    probe_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("note", String(50), nullable=False),
)


@pytest.fixture
def probe_engine(engine: Engine) -> Iterator[Engine]:
    probe_metadata.drop_all(engine)
    probe_metadata.create_all(engine)
    yield engine
    probe_metadata.drop_all(engine)


def _writer(engine: Engine, **kw: int) -> GroupCommitWriter:
    writer = GroupCommitWriter(session_factory(engine), **kw)
    writer.start()
    return writer


@pytest.fixture
def writer(probe_engine: Engine) -> Iterator[GroupCommitWriter]:
    w = _writer(probe_engine)
    yield w
    w.stop()


def put(row_id: int, note: str = "ok") -> Callable[[Session], int]:
    def fn(session: Session) -> int:
        session.execute(insert(probe).values(id=row_id, note=note))
        return row_id

    return fn


def committed_ids(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.scalars(select(probe.c.id)))


class Gate:
    """A job that holds the writer thread until opened."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.opened = threading.Event()

    def __call__(self, session: Session) -> str:
        self.started.set()
        assert self.opened.wait(30), "the test never opened the gate"
        return "gate"


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0)


def test_concurrent_submits_are_committed_in_batches(
    writer: GroupCommitWriter, probe_engine: Engine
) -> None:
    n = 40

    async def main() -> list[int | str]:
        gate = Gate()
        first = asyncio.ensure_future(writer.submit(gate))
        await asyncio.to_thread(gate.started.wait)
        rest = [asyncio.ensure_future(writer.submit(put(i))) for i in range(n)]
        await _until(lambda: writer.pending == n + 1)
        gate.opened.set()
        return list(await asyncio.gather(first, *rest))

    results = asyncio.run(main())
    assert results == ["gate", *range(n)]
    assert committed_ids(probe_engine) == list(range(n))  # durable: committed when awaited
    assert writer.stats.largest_batch == n  # everything queued behind the gate: one batch
    assert writer.stats.jobs == n + 1
    assert writer.stats.retried_batches == 0
    assert writer.pending == 0


def test_max_batch_caps_a_batch(probe_engine: Engine) -> None:
    writer = _writer(probe_engine, max_batch=3)
    gate = Gate()
    try:

        async def main() -> None:
            first = asyncio.ensure_future(writer.submit(gate))
            await asyncio.to_thread(gate.started.wait)
            rest = [asyncio.ensure_future(writer.submit(put(i))) for i in range(10)]
            await _until(lambda: writer.pending == 11)
            gate.opened.set()
            await asyncio.gather(first, *rest)

        asyncio.run(main())
    finally:
        writer.stop()
    assert writer.stats.largest_batch == 3
    assert writer.stats.batch_sizes == [1, 3, 3, 3, 1]
    assert committed_ids(probe_engine) == list(range(10))


def test_one_failure_fails_only_its_caller(writer: GroupCommitWriter, probe_engine: Engine) -> None:
    def boom(session: Session) -> int:
        session.execute(insert(probe).values(id=100, note="doomed"))
        raise ValueError("bad job")

    async def main() -> list[object]:
        gate = Gate()
        first = asyncio.ensure_future(writer.submit(gate))
        await asyncio.to_thread(gate.started.wait)
        jobs = [put(1), boom, put(2), put(1), put(3)]  # the second put(1) is a duplicate key
        rest = [asyncio.ensure_future(writer.submit(fn)) for fn in jobs]
        await _until(lambda: writer.pending == 6)
        gate.opened.set()
        return list(await asyncio.gather(first, *rest, return_exceptions=True))

    results = asyncio.run(main())
    assert results[0] == "gate"
    assert results[1] == 1
    assert isinstance(results[2], ValueError)
    assert results[3] == 2
    assert type(results[4]).__name__ == "IntegrityError"
    assert results[5] == 3
    assert committed_ids(probe_engine) == [1, 2, 3]  # nothing of the failed jobs
    assert writer.stats.retried_batches == 1
    assert writer.stats.failed_jobs == 2
    assert writer.pending == 0


CALLS: list[list[int]] = []


def put_many(session: Session, ids: list[int]) -> list[int | Exception]:
    """A batched call: one multi-row INSERT for every caller's id; odd ids are refused (their
    callers get the error, the rest of the batch goes on)."""
    CALLS.append(list(ids))
    kept = [i for i in ids if i % 2 == 0]
    if kept:
        session.execute(insert(probe), [{"id": i, "note": "many"} for i in kept])
    return [i if i % 2 == 0 else ValueError(f"odd {i}") for i in ids]


def test_batched_calls_run_once_per_batch_and_fail_only_their_own_callers(
    writer: GroupCommitWriter, probe_engine: Engine
) -> None:
    CALLS.clear()

    async def main() -> list[object]:
        gate = Gate()
        first = asyncio.ensure_future(writer.submit(gate))
        await asyncio.to_thread(gate.started.wait)
        jobs: list[object] = [Batched(put_many, 0), put(100), Batched(put_many, 1)]
        jobs += [Batched(put_many, 2), put(101), Batched(put_many, 4)]
        rest = [asyncio.ensure_future(writer.submit(job)) for job in jobs]  # type: ignore[arg-type]
        await _until(lambda: writer.pending == 7)
        gate.opened.set()
        return list(await asyncio.gather(first, *rest, return_exceptions=True))

    results = asyncio.run(main())
    assert CALLS == [[0, 1, 2, 4]]  # one call for the whole batch, in the order submitted
    assert results[0] == "gate"
    assert [results[1], results[2], results[4], results[5], results[6]] == [0, 100, 2, 101, 4]
    assert isinstance(results[3], ValueError)
    assert str(results[3]) == "odd 1"
    assert committed_ids(probe_engine) == [0, 2, 4, 100, 101]
    assert writer.stats.retried_batches == 0  # a returned refusal does not fail the batch
    assert writer.stats.failed_jobs == 1


def test_a_failing_batched_call_is_run_again_per_caller(
    writer: GroupCommitWriter, probe_engine: Engine
) -> None:
    """When the batched function raises (here: a duplicate key from one caller), every job of
    the batch runs again alone, so only the caller whose argument is bad fails."""
    CALLS.clear()

    async def main() -> list[object]:
        gate = Gate()
        first = asyncio.ensure_future(writer.submit(gate))
        await asyncio.to_thread(gate.started.wait)
        rest = [asyncio.ensure_future(writer.submit(Batched(put_many, i))) for i in (2, 4, 2)]
        await _until(lambda: writer.pending == 4)
        gate.opened.set()
        return list(await asyncio.gather(first, *rest, return_exceptions=True))

    results = asyncio.run(main())
    assert CALLS == [[2, 4, 2], [2], [4], [2]]
    assert results[1:3] == [2, 4]
    assert type(results[3]).__name__ == "IntegrityError"
    assert committed_ids(probe_engine) == [2, 4]
    assert writer.stats.retried_batches == 1


def test_run_now_runs_work_in_the_callers_transaction(probe_engine: Engine) -> None:
    with session_factory(probe_engine)() as session:
        assert run_now(session, Batched(put_many, 6)) == 6
        assert run_now(session, put(7)) == 7
        with pytest.raises(ValueError, match="odd 9"):
            run_now(session, Batched(put_many, 9))
        session.commit()
    assert committed_ids(probe_engine) == [6, 7]


def test_a_lone_failure_is_reported(writer: GroupCommitWriter) -> None:
    def boom(_session: Session) -> None:
        raise KeyError("alone")

    with pytest.raises(KeyError, match="alone"):
        writer.submit_sync(boom)
    assert writer.submit_sync(put(5)) == 5  # the writer goes on


def test_a_session_that_cannot_be_opened_fails_its_callers_and_the_writer_goes_on(
    probe_engine: Engine,
) -> None:
    """The database unreachable when a batch starts (no session, no write lock): that batch's
    callers get the error; the writer thread lives on and commits the next batch."""
    factory = session_factory(probe_engine)
    failures = [OperationalError("connect", {}, Exception("the database is down"))]

    def flaky() -> Session:
        if failures:
            raise failures.pop()
        return factory()

    writer = GroupCommitWriter(cast(sessionmaker[Session], flaky))
    writer.start()
    try:
        with pytest.raises(OperationalError, match="the database is down"):
            writer.submit_sync(put(1))
        assert writer.submit_sync(put(2)) == 2
    finally:
        writer.stop()
    assert committed_ids(probe_engine) == [2]
    assert writer.stats.failed_jobs == 1


def test_submit_sync_from_many_threads(writer: GroupCommitWriter, probe_engine: Engine) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def worker(start: int) -> None:
        for i in range(start, start + 10):
            value = writer.submit_sync(put(i), timeout=30)
            with lock:
                results.append(value)

    threads = [threading.Thread(target=worker, args=(k * 10,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(60))
    assert committed_ids(probe_engine) == list(range(60))
    assert writer.stats.jobs == 60


def test_a_full_queue_makes_submitters_wait_without_losing_work(probe_engine: Engine) -> None:
    writer = _writer(probe_engine, max_queue=1)
    try:

        async def main() -> list[int]:
            return list(await asyncio.gather(*(writer.submit(put(i)) for i in range(20))))

        assert asyncio.run(main()) == list(range(20))
    finally:
        writer.stop()
    assert committed_ids(probe_engine) == list(range(20))
    assert writer.stats.largest_batch == 1  # one slot: never more than one job queued


def test_stop_drains_the_queue_and_refuses_new_work(probe_engine: Engine) -> None:
    writer = _writer(probe_engine)
    gate = Gate()
    held = threading.Thread(target=writer.submit_sync, args=(gate,))
    held.start()
    assert gate.started.wait(30)
    outcomes: dict[int, int] = {}

    def submit(i: int) -> None:
        outcomes[i] = writer.submit_sync(put(i), timeout=30)

    submitters = [threading.Thread(target=submit, args=(i,)) for i in range(15)]
    for t in submitters:
        t.start()
    while writer.pending < 16:
        threading.Event().wait(0.001)
    stopping = threading.Thread(target=writer.stop)
    stopping.start()
    while writer.running:
        threading.Event().wait(0.001)
    with pytest.raises(ServiceUnavailable, match="not running"):
        writer.submit_sync(put(99))
    gate.opened.set()
    stopping.join(30)
    held.join(30)
    for t in submitters:
        t.join(30)
    assert outcomes == {i: i for i in range(15)}
    assert committed_ids(probe_engine) == list(range(15))
    with pytest.raises(RuntimeError, match="restarted"):
        writer.start()


def test_cancelled_callers_work_still_commits(probe_engine: Engine) -> None:
    writer = _writer(probe_engine)
    gate = Gate()
    try:

        async def main() -> None:
            first = asyncio.ensure_future(writer.submit(gate))
            await asyncio.to_thread(gate.started.wait)
            task = asyncio.ensure_future(writer.submit(put(7)))
            await _until(lambda: writer.pending == 2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            gate.opened.set()
            await first

        asyncio.run(main())
    finally:
        writer.stop()
    assert committed_ids(probe_engine) == [7]


def test_lifecycle_errors(probe_engine: Engine) -> None:
    idle = GroupCommitWriter(session_factory(probe_engine))
    with pytest.raises(ServiceUnavailable, match="not running"):
        idle.submit_sync(put(1))
    idle.stop()  # never started: nothing to drain
    assert not idle.running
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommitWriter(session_factory(probe_engine), max_batch=0)
    with pytest.raises(ValueError, match="max_queue"):
        GroupCommitWriter(session_factory(probe_engine), max_queue=0)


def test_submit_sync_inside_a_job_is_refused(writer: GroupCommitWriter) -> None:
    def nested(session: Session) -> int:
        return writer.submit_sync(put(1))

    with pytest.raises(RuntimeError, match="writer thread"):
        writer.submit_sync(nested)


def test_the_app_starts_and_stops_its_writer(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/group-commit-probe")
    async def probe_route(writer: GroupCommitDep) -> int:
        return await writer.submit(lambda session: session.scalar(select(func.count() + 41)))

    with TestClient(app) as client:
        writer = app.state.group_commit
        assert isinstance(writer, GroupCommitWriter)
        assert writer.running
        assert client.get("/group-commit-probe").json() == 42
    assert not writer.running
    assert writer.stats.jobs == 1
