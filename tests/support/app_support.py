"""Running the app inside a test's transaction (importable as ``app_support``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from fastapi import FastAPI
from sqlalchemy.orm import Session

from rongxin.db.group_commit import Work, run_now
from rongxin.deps import SessionScope, get_group_commit, get_session, get_session_scope

T = TypeVar("T")


class InlineWriter:
    """Runs group-commit work at once in the test's own transaction, so that what a request
    logs is visible to the test and rolled back with it. The real writer (a thread committing
    batches) is tested in tests/test_group_commit.py and tests/audit/."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def submit_sync(self, work: Work[T], timeout: float | None = None) -> T:
        result = run_now(self.session, work)
        self.session.flush()
        return result

    async def submit(self, work: Work[T]) -> T:
        return self.submit_sync(work)


def use_test_session(app: FastAPI, session: Session) -> None:
    """Route the app's request sessions and group-commit work into ``session``."""

    def _session() -> Iterator[Session]:
        yield session
        session.flush()

    async def _session_scope() -> SessionScope:
        return contextmanager(_session)  # the same request session, opened by the route

    async def _writer() -> InlineWriter:
        return InlineWriter(session)

    app.dependency_overrides[get_session] = _session
    app.dependency_overrides[get_session_scope] = _session_scope
    app.dependency_overrides[get_group_commit] = _writer
