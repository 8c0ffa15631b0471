"""The root ``rongxin`` command; each domain adds its own sub-app."""

from __future__ import annotations

import sys

import typer

from rongxin import __version__
from rongxin.access.cli import app as access_app
from rongxin.audit.cli import app as audit_app
from rongxin.catalog.cli import app as catalog_app
from rongxin.consent.cli import app as consent_app
from rongxin.db.cli import app as db_app
from rongxin.entities.cli import app as entities_app
from rongxin.entities.cli import uscc_app
from rongxin.errors import RongxinError
from rongxin.ingest.cli import ingest_command, quality_app
from rongxin.institutions.cli import app as institutions_app
from rongxin.monitoring.cli import app as monitoring_app
from rongxin.providers.cli import app as provider_app
from rongxin.push.cli import app as push_app
from rongxin.reports.cli import app as report_app
from rongxin.synth.cli import synth_access_command, synth_command

app = typer.Typer(
    name="rongxin",
    help="融信 rongxin — financing credit service platform (融资信用服务平台).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db_app, name="db")
app.add_typer(catalog_app, name="catalog")
app.add_typer(entities_app, name="entities")
app.add_typer(uscc_app, name="uscc")
app.add_typer(access_app, name="access")
app.add_typer(consent_app, name="consent")
app.add_typer(push_app, name="push")
app.add_typer(institutions_app, name="institutions")
app.add_typer(provider_app, name="provider")
app.add_typer(report_app, name="report")
app.add_typer(audit_app, name="audit")
app.add_typer(monitoring_app, name="monitoring")
app.command("synth")(synth_command)
app.command("synth-access")(synth_access_command)
app.command("ingest")(ingest_command)
app.add_typer(quality_app, name="quality")


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default: RONGXIN_HOST)."),
    port: int | None = typer.Option(None, help="Port (default: RONGXIN_PORT)."),
) -> None:
    """Start the web UI and API (http://127.0.0.1:8000 by default)."""
    import uvicorn

    from rongxin.app import create_app
    from rongxin.cli_support import settings_or_exit
    from rongxin.db.session import build_engine, check_connection
    from rongxin.providers.client import load_endpoints

    settings = settings_or_exit()
    check_connection(build_engine(settings))
    if settings.provider_endpoints_path is not None:  # fail fast, with the file and the field
        load_endpoints(settings.provider_endpoints_path)
    uvicorn.run(
        create_app(settings),
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
