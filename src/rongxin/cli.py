"""The root ``rongxin`` command; each domain adds its own sub-app."""

from __future__ import annotations

import importlib
import sys
from typing import Any, NamedTuple, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from rongxin import __version__
from rongxin.errors import RongxinError


class Lazy(NamedTuple):
    """A domain's sub-app (a Typer) or command (a function), imported only when that command
    runs, so `rongxin rating score` does not load every domain; ``summary`` is what the root's
    help lists for it (its help's first paragraph, checked by a test), so that `rongxin --help`
    imports none of them either."""

    module: str
    attribute: str
    summary: str


LAZY: dict[str, Lazy] = {
    "db": Lazy("rongxin.db.cli", "app", "Database schema (Alembic migrations)."),
    "catalog": Lazy("rongxin.catalog.cli", "app", "信用信息共享清单 — the information catalog."),
    "entities": Lazy(
        "rongxin.entities.cli", "app", "市场主体 — market entities: look up, search, import."
    ),
    "uscc": Lazy("rongxin.entities.cli", "uscc_app", "统一社会信用代码 — USCC tools."),
    "access": Lazy(
        "rongxin.access.cli", "app", "接入凭证 — API keys for systems that call the platform."
    ),
    "consent": Lazy(
        "rongxin.consent.cli",
        "app",
        "企业授权 — enterprise authorizations: list, show (with evidence check), expire.",
    ),
    "push": Lazy(
        "rongxin.push.cli",
        "app",
        "批量推送 — batch push of new and changed records to institutions.",
    ),
    "institutions": Lazy(
        "rongxin.institutions.cli",
        "app",
        "接入机构 — onboarding of access institutions: apply, assess, approve, suspend.",
    ),
    "provider": Lazy(
        "rongxin.providers.cli",
        "app",
        "数据提供单位服务 — the provider-side service for interface call (接口调用) and data "
        "verification (数据核验).",
    ),
    "report": Lazy(
        "rongxin.reports.cli",
        "app",
        "信用报告 — standardized credit reports: `rongxin report USCC`, `rongxin report usage`.",
    ),
    "audit": Lazy(
        "rongxin.audit.cli",
        "app",
        "审计日志 — the tamper-evident access log (Z3): verify, checkpoint, list.",
    ),
    "monitoring": Lazy(
        "rongxin.monitoring.cli",
        "app",
        "滥用监测 — abuse rules over the access log (Z3): scan, alerts, acknowledge, close.",
    ),
    "rating": Lazy(
        "rongxin.rating.cli",
        "app",
        "信用评价 — rating: rate every entity (`rongxin rating run`), portraits (`rongxin rating "
        "show USCC`), train scorecards (`rongxin rating train`) and score files (`rongxin rating "
        "score`).",
    ),
    "rights": Lazy(
        "rongxin.rights.cli",
        "app",
        "主体权益 — rights of the information subject: sweep, deadlines, calendar, publicity.",
    ),
    "synth": Lazy(
        "rongxin.synth.cli",
        "synth_command",
        "Write, per provider and catalog item, the files that provider would deliver.",
    ),
    "synth-access": Lazy(
        "rongxin.synth.cli",
        "synth_access_command",
        "Demo parties on a loaded node: an onboarded bank, enterprises with API keys, an active\n"
        "pre-loan authorization from the first enterprise to the bank, and two rights cases (an\n"
        "objection with the provider, a repair application under review; tokens → ``--out``).",
    ),
    "ingest": Lazy(
        "rongxin.ingest.cli",
        "ingest_command",
        "Aggregate delivered files: each file is one all-or-nothing batch, committed on its own.",
    ),
    "quality": Lazy(
        "rongxin.ingest.cli", "quality_app", "数据质量 — data quality of delivered data (S4)."
    ),
}


class _LazyGroup(TyperGroup):
    """The root group: a domain command is imported when it runs; the root's help lists each
    by its summary, importing none."""

    _listing = False  # inside format_help: get_command answers with summaries

    def list_commands(self, ctx: Any) -> list[str]:  # ctx: typer's vendored click.Context
        return sorted({*super().list_commands(ctx), *LAZY})

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def get_command(self, ctx: Any, cmd_name: str) -> Any:  # a click command, or None
        if cmd_name not in LAZY:
            return super().get_command(ctx, cmd_name)
        lazy = LAZY[cmd_name]
        if self._listing:
            return TyperCommand(cmd_name, help=lazy.summary)
        target = getattr(importlib.import_module(lazy.module), lazy.attribute)
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
    """Entry point: domain errors, and a database without the schema, become a clear message
    and exit code 2, never a traceback."""
    try:
        app()
    except RongxinError as exc:
        _fail(exc.message)
    except Exception as exc:
        from rongxin.config import Settings
        from rongxin.db.session import missing_table, no_schema_message

        table = missing_table(exc)
        if table is None:
            raise
        _fail(no_schema_message(Settings(), table))


def _fail(message: str) -> NoReturn:
    typer.secho(f"错误 error: {message}", fg=typer.colors.RED, err=True)
    sys.exit(2)
