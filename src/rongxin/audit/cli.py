"""``rongxin audit``: verify the access log, sign a checkpoint now, list entries, show the key."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from rongxin.audit import chain, service
from rongxin.audit.verification import BATCH_SIZE
from rongxin.catalog import service as catalog_service
from rongxin.cli_support import cli_session, echo_err, emit_json, settings_or_exit

app = typer.Typer(
    help="审计日志 — the tamper-evident access log (Z3): verify, checkpoint, list.",
    no_args_is_help=True,
)


@app.command("verify")
def verify(
    batch_size: int = typer.Option(BATCH_SIZE, min=1, help="Entries read per query."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check every entry's hash, the links, the sequence and every checkpoint signature.

    Exit code 0 when the log is intact; 1 naming the first bad entry otherwise.
    """
    settings = settings_or_exit()
    with cli_session(settings) as session:
        result = service.verify(session, settings=settings, batch_size=batch_size)
    if json_output:
        emit_json(result.model_dump(mode="json"))
    elif result.intact:
        typer.echo(result.summary())
    if not result.intact:
        if not json_output:
            typer.secho(result.summary(), fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint() -> None:
    """Sign a checkpoint at the current tail now (e.g. before a backup or at the end of a day)."""
    settings = settings_or_exit()
    with cli_session(settings) as session:
        written = service.write_checkpoint(session, settings=settings)
    if written is None:
        echo_err("nothing to sign: the log is empty or its tail is already signed")
        return
    emit_json(written.model_dump(mode="json"))


@app.command("list")
def list_(
    uscc: str | None = typer.Option(None, help="Only entries about this entity (USCC)."),
    actor: str | None = typer.Option(None, help="Only entries of this actor code."),
    action: str | None = typer.Option(None, help="Only this action, e.g. report.view."),
    provider: str | None = typer.Option(None, help="Only entries that used this provider's items."),
    since: datetime | None = typer.Option(None, help="From this time (UTC when no zone given)."),
    until: datetime | None = typer.Option(None, help="Before this time (UTC when no zone given)."),
    limit: int = typer.Option(50, min=1, max=service.MAX_PAGE, help="Entries to print."),
    cursor: int | None = typer.Option(None, min=1, help="Continue below this seq (next page)."),
) -> None:
    """Print entries newest first, one JSON object a line."""
    settings = settings_or_exit()
    catalog = catalog_service.load_catalog(settings.catalog_path) if provider else None
    since, until = (
        t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t for t in (since, until)
    )
    with cli_session(settings) as session:
        page = service.entries(
            session,
            uscc=uscc,
            actor_code=actor,
            action=action,
            provider_code=provider,
            catalog=catalog,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )
    for entry in page.items:
        emit_json(entry.model_dump(mode="json"))
    if page.next_cursor is not None:
        echo_err(f"more entries: --cursor {page.next_cursor}")


@app.command("key")
def key() -> None:
    """Print the checkpoint public key (Ed25519) so others can check checkpoints offline."""
    signing = chain.checkpoint_key(settings_or_exit())
    emit_json(
        {
            "algorithm": "Ed25519",
            "key_id": signing.key_id,
            "public_key": signing.public_hex,
            "development_key": signing.development,
        }
    )
