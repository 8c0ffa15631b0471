"""Concurrent appenders — threads with their own sessions, separate processes, and the
group-commit writer — keep one valid chain (on the test engine: SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading

import pytest
from audit_factories import make_event
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from rongxin.audit import service, writer
from rongxin.audit.models import AuditEntry
from rongxin.config import Settings
from rongxin.db.group_commit import GroupCommitWriter
from rongxin.db.session import build_engine, session_factory, session_scope


def _verify(engine: Engine, settings: Settings) -> tuple[bool, int]:
    with Session(engine) as session:
        result = service.verify(session, settings=settings, batch_size=7)
        assert result.problem is None, result.problem
        return result.intact, result.last_seq


def test_threads_append_to_one_chain(committed_engine: Engine, audit_settings: Settings) -> None:
    factory = session_factory(committed_engine)
    errors: list[BaseException] = []
    appended: list[int] = []
    lock = threading.Lock()

    def appender(k: int) -> None:
        try:
            for i in range(8):
                with session_scope(factory) as session:
                    events = [make_event(actor_code=f"bank_{k}", request_id=f"r{k}-{i}")] * 2
                    seqs = service.append(session, events, settings=audit_settings)
                with lock:
                    appended.extend(seqs)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=appender, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(appended) == list(range(1, 6 * 8 * 2 + 1))  # every seq handed out once
    assert _verify(committed_engine, audit_settings) == (True, 96)


def _process_appender(url: str, secret: str, k: int, rounds: int) -> None:
    settings = Settings(
        database_url=url, secret_key=secret, audit_checkpoint_every=3, node_id=f"proc-{k}"
    )
    engine = build_engine(settings)
    factory = session_factory(engine)
    try:
        for i in range(rounds):
            with session_scope(factory) as session:
                service.append(
                    session,
                    [make_event(actor_code=f"p{k}", request_id=f"{k}-{i}")],
                    settings=settings,
                )
    finally:
        engine.dispose()


@pytest.mark.slow  # four interpreters start and import rongxin
def test_processes_append_to_one_chain(committed_engine: Engine, audit_settings: Settings) -> None:
    url = committed_engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    procs = [
        context.Process(target=_process_appender, args=(url, "test-secret", k, 10))
        for k in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert _verify(committed_engine, audit_settings) == (True, 40)
    with Session(committed_engine) as session:
        by_node = dict(
            session.execute(
                select(AuditEntry.node_id, func.count()).group_by(AuditEntry.node_id)
            ).all()
        )
    assert by_node == {f"proc-{k}": 10 for k in range(4)}


def test_record_through_the_group_commit_writer(
    committed_engine: Engine, audit_settings: Settings
) -> None:
    group = GroupCommitWriter(session_factory(committed_engine))
    group.start()
    try:

        async def main() -> list[list[int]]:
            calls = [
                writer.record(group, [make_event(request_id=f"w{i}")], settings=audit_settings)
                for i in range(30)
            ]
            return list(await asyncio.gather(*calls))

        results = asyncio.run(main())
        assert writer.record_sync(group, [], settings=audit_settings) == []
        (tail,) = writer.record_sync(group, [make_event()], settings=audit_settings)
    finally:
        group.stop()
    assert sorted(s for seqs in results for s in seqs) == list(range(1, 31))
    assert tail == 31
    assert _verify(committed_engine, audit_settings) == (True, 31)
