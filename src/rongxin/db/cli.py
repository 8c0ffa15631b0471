"""``rongxin db``: apply migrations, show the revision."""

from __future__ import annotations

import typer

from rongxin.cli_support import settings_or_exit
from rongxin.db import migrate
from rongxin.db.session import build_engine, check_connection

app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    engine = build_engine(settings_or_exit())
    try:
        check_connection(engine)
        migrate.upgrade(engine, revision)
        typer.echo(f"database at revision {migrate.current(engine)}", err=True)
    finally:
        engine.dispose()


@app.command()
def current() -> None:
    """Print the database's current revision."""
    engine = build_engine(settings_or_exit())
    try:
        check_connection(engine)
        typer.echo(migrate.current(engine) or "(empty)")
    finally:
        engine.dispose()
