"""The root ``rongxin`` command; each domain adds its own sub-app."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from rongxin import __version__
from rongxin.errors import RongxinError

#: command name → (module, attribute): each domain's sub-app (a Typer) or command (a function),
#: imported only when that command runs, so `rongxin rating score` does not load every domain
LAZY: dict[str, tuple[str, str]] = {
    "db": ("rongxin.db.cli", "app"),
    "catalog": ("rongxin.catalog.cli", "app"),
    "entities": ("rongxin.entities.cli", "app"),
    "uscc": ("rongxin.entities.cli", "uscc_app"),
    "access": ("rongxin.access.cli", "app"),
    "consent": ("rongxin.consent.cli", "app"),
    "push": ("rongxin.push.cli", "app"),
    "institutions": ("rongxin.institutions.cli", "app"),
    "provider": ("rongxin.providers.cli", "app"),
    "report": ("rongxin.reports.cli", "app"),
    "audit": ("rongxin.audit.cli", "app"),
    "monitoring": ("rongxin.monitoring.cli", "app"),
    "rating": ("rongxin.rating.cli", "app"),
    "rights": ("rongxin.rights.cli", "app"),
    "synth": ("rongxin.synth.cli", "synth_command"),
    "synth-access": ("rongxin.synth.cli", "synth_access_command"),
    "ingest": ("rongxin.ingest.cli", "ingest_command"),
    "quality": ("rongxin.ingest.cli", "quality_app"),
}


class _LazyGroup(TyperGroup):
    """The root group: domain commands are imported when named (or when help lists them)."""

    def list_commands(self, ctx: Any) -> list[str]:  # ctx: typer's vendored click.Context
        return sorted({*super().list_commands(ctx), *LAZY})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:  # a click command, or None
        if cmd_name not in LAZY:
            return super().get_command(ctx, cmd_name)
        module, attribute = LAZY[cmd_name]
        target = getattr(importlib.import_module(module), attribute)
        holder = typer.Typer(add_completion=False)  # converted as the root would convert it
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=cmd_name)
        else:
            holder.command(cmd_name)(target)
            holder.command("_")(lambda: None)  # two commands: the holder stays a group
        group = typer.main.get_command(holder)
        return group.get_command(ctx, cmd_name)  # type: ignore[attr-defined]


app = typer.Typer(
    cls=_LazyGroup,
    name="rongxin",
    help="融信 rongxin — financing credit service platform (融资信用服务平台).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default: RONGXIN_HOST)."),
    port: int | None = typer.Option(None, help="Port (default: RONGXIN_PORT)."),
    workers: int = typer.Option(
        1, min=1, max=64, help="Server processes (one per core: Python runs one thread at a time)."
    ),
) -> None:
    """Start the web UI and API (http://127.0.0.1:8000 by default)."""
    import uvicorn

    from rongxin.cli_support import settings_or_exit
    from rongxin.db.session import build_engine, check_connection
    from rongxin.providers.client import load_endpoints

    settings = settings_or_exit()
    check_connection(build_engine(settings))
    if settings.provider_endpoints_path is not None:  # fail fast, with the file and the field
        load_endpoints(settings.provider_endpoints_path)
    uvicorn.run(  # each process builds its app from the same environment
        "rongxin.app:server_app",
        factory=True,
        workers=workers,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point: domain errors become a clear message and exit code 2, never a traceback."""
    try:
        app()
    except RongxinError as exc:
        typer.secho(f"错误 error: {exc.message}", fg=typer.colors.RED, err=True)
        sys.exit(2)
