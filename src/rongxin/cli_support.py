"""Helpers shared by every CLI sub-app: settings, a transaction scope, output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from rongxin.config import Settings
from rongxin.db.session import build_engine, check_connection, session_factory, session_scope
from rongxin.errors import InvalidInput


def settings_or_exit() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"RONGXIN_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise InvalidInput(f"configuration is not valid: {problems}") from exc


@contextmanager
def cli_session(settings: Settings | None = None) -> Iterator[Session]:
    """The CLI edge's one transaction: commit on success, roll back on any error."""
    settings = settings or settings_or_exit()
    engine = build_engine(settings)
    try:
        check_connection(engine)
        with session_scope(session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def echo_err(message: str) -> None:
    typer.echo(message, err=True)
