"""``rongxin monitoring``: run the abuse rules over the access log (schedule ``scan`` every few
minutes), list and handle alerts, show the rules in force."""

from __future__ import annotations

from typing import Annotated

import typer

from rongxin.cli_support import cli_session, emit_json, settings_or_exit
from rongxin.db.base import utcnow
from rongxin.errors import InvalidInput
from rongxin.logging import configure_logging
from rongxin.monitoring import service
from rongxin.monitoring.rules import RuleCode, load_rules
from rongxin.monitoring.schemas import AlertStatus

app = typer.Typer(
    help="滥用监测 — abuse rules over the access log (Z3): scan, alerts, acknowledge, close.",
    no_args_is_help=True,
)

AlertArg = Annotated[str, typer.Argument(help="The alert id.")]
ActorOpt = Annotated[str, typer.Option(help="Who acts (a person's name or staff id).")]
NoteOpt = Annotated[str, typer.Option(help="What was checked or done.")]


@app.callback()
def _logging() -> None:
    """Logs go to stderr, so that stdout carries only the JSON answers."""
    settings = settings_or_exit()
    configure_logging(level=settings.log_level, json=settings.log_json)


def _actor(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("name who acts, e.g. --actor 'zhang-wei'")
    return f"console:{name}"


@app.command()
def scan(
    since: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Re-read the entries after this seq (default: after the cursor). A re-scan "
            "adds no duplicate alerts.",
        ),
    ] = None,
) -> None:
    """Run every abuse rule over the access-log entries after the last scan; write alerts,
    suspend institutions with repeated violations, advance the cursor. Prints the result."""
    settings = settings_or_exit()
    with cli_session(settings) as session:
        result = service.scan(session, settings=settings, now=utcnow(), since=since)
    emit_json(result.model_dump(mode="json"))


@app.command("alerts")
def alerts(
    status: Annotated[list[AlertStatus] | None, typer.Option(help="Repeat for several.")] = None,
    institution: Annotated[str | None, typer.Option(help="Only this institution.")] = None,
    rule: Annotated[RuleCode | None, typer.Option(help="Only this rule.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
) -> None:
    """List alerts, most severe first (JSON lines)."""
    with cli_session() as session:
        page = service.list_alerts(
            session, statuses=status or [], institution_code=institution, rule=rule, limit=limit
        )
    for alert in page.items:
        emit_json(alert.model_dump(mode="json"))


@app.command()
def acknowledge(alert_id: AlertArg, actor: ActorOpt, note: NoteOpt) -> None:
    """Mark an open alert as being looked into."""
    with cli_session() as session:
        done = service.acknowledge(
            session, alert_id=alert_id, actor=_actor(actor), note=note, at=utcnow()
        )
    emit_json(done.model_dump(mode="json"))


@app.command()
def close(alert_id: AlertArg, actor: ActorOpt, note: NoteOpt) -> None:
    """Close an alert, saying how it was handled."""
    with cli_session() as session:
        done = service.close(
            session, alert_id=alert_id, actor=_actor(actor), note=note, at=utcnow()
        )
    emit_json(done.model_dump(mode="json"))


@app.command()
def rules() -> None:
    """Print the abuse rules in force (RONGXIN_ABUSE_RULES_PATH or the shipped file)."""
    emit_json(load_rules(settings_or_exit().abuse_rules_path).model_dump(mode="json"))
