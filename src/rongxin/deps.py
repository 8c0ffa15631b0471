"""Request-scoped dependencies shared by every domain, declared once as Annotated aliases.

Dependencies that never block are ``async``: FastAPI runs a sync dependency in a worker thread,
and a thread hop per dependency is measurable on every request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.db.group_commit import GroupCommitWriter
from rongxin.db.session import session_scope


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: the edge commits once (STYLE.md rule 4)."""
    with session_scope(request.app.state.session_factory) as session:
        yield session


#: opens the request's transaction when called (``with scope() as session: …``)
SessionScope = Callable[[], AbstractContextManager[Session]]


async def get_session_scope(request: Request) -> SessionScope:
    """The request's transaction, to be opened by the route itself — for hot routes that do all
    their reading in one worker-thread hop (a ``SessionDep`` costs a hop to open and another to
    close)."""
    return partial(session_scope, request.app.state.session_factory)


async def get_catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


async def get_group_commit(request: Request) -> GroupCommitWriter:
    """The app's group-commit writer (one commit for many small writes; db/group_commit.py)."""
    writer: GroupCommitWriter = request.app.state.group_commit
    return writer


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
SessionScopeDep = Annotated[SessionScope, Depends(get_session_scope)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
GroupCommitDep = Annotated[GroupCommitWriter, Depends(get_group_commit)]
