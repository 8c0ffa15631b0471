"""``rongxin push``: batch-push subscriptions and the delivery worker (V3)."""

from __future__ import annotations

import time
from typing import Annotated

import httpx2
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from rongxin.catalog import service as catalog_service
from rongxin.cli_support import cli_session, echo_err, emit_json, settings_or_exit
from rongxin.db.base import utcnow
from rongxin.db.session import build_engine, check_connection, session_factory, session_scope
from rongxin.errors import InvalidInput
from rongxin.push import service, subscriptions
from rongxin.push.schemas import (
    DeliveryMode,
    FileFormat,
    RunResult,
    RunSummary,
    SubscriptionCreate,
)
from rongxin.push.webhook import TIMEOUT_SECONDS

app = typer.Typer(
    help="批量推送 — batch push of new and changed records to institutions.",
    no_args_is_help=True,
)

SubscriptionArg = Annotated[str, typer.Argument(help="The subscription id (`rongxin push list`).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@app.command()
def subscribe(
    institution: Annotated[str, typer.Option(help="The institution's code.")],
    name: Annotated[str, typer.Option(help="A name for the subscription.")] = "",
    region: Annotated[
        str | None, typer.Option(help="GB/T 2260 code or prefix, e.g. 35 or 3501.")
    ] = None,
    industry: Annotated[
        list[str] | None, typer.Option(help="GB/T 4754 section (repeatable: C, F …).")
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option(help="Catalog category code (repeat), e.g. penalty.")
    ] = None,
    file_format: Annotated[
        FileFormat | None, typer.Option(help="Deliver files in this format.")
    ] = None,
    webhook: Annotated[str | None, typer.Option(help="Deliver by POST to this URL.")] = None,
    from_beginning: Annotated[
        bool,
        typer.Option(
            "--from-beginning", help="Deliver every existing record first (default: from now)."
        ),
    ] = False,
) -> None:
    """Subscribe an institution; a webhook secret is printed once and cannot be shown again."""
    if (file_format is None) == (webhook is None):
        raise InvalidInput("give exactly one of --file-format or --webhook")
    try:
        spec = SubscriptionCreate(
            name=name,
            region_prefix=region,
            industry_sections=industry or None,
            categories=category or None,
            delivery=DeliveryMode.webhook if webhook else DeliveryMode.file,
            file_format=file_format,
            webhook_url=webhook,
            from_beginning=from_beginning,
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(f"subscription is not valid: {problems}") from None
    settings = settings_or_exit()
    catalog = catalog_service.load_catalog(settings.catalog_path)
    with cli_session(settings) as session:
        created = subscriptions.create_subscription(
            session, catalog=catalog, institution_code=institution, spec=spec
        )
    emit_json(created.model_dump(mode="json"))


@app.command("list")
def list_(
    institution: Annotated[str | None, typer.Option(help="Only this institution's.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List subscriptions with their cursor and status."""
    with cli_session() as session:
        subs = subscriptions.list_subscriptions(session, institution_code=institution)
    if as_json:
        emit_json([s.model_dump(mode="json") for s in subs])
        return
    table = Table(title=f"push subscriptions — {len(subs)}")
    for col in ("id", "institution", "delivery", "filters", "cursor", "status"):
        table.add_column(col)
    for s in subs:
        filters = " ".join(
            part
            for part in (
                f"region={s.region_prefix}" if s.region_prefix else "",
                f"industry={','.join(s.industry_sections)}" if s.industry_sections else "",
                f"category={','.join(s.categories)}" if s.categories else "",
            )
            if part
        )
        how = s.file_format.value if s.file_format else "webhook"
        status = s.status.value + (f" ({s.paused_reason})" if s.paused_reason else "")
        table.add_row(s.id, s.institution_code, how, filters or "—", str(s.cursor), status)
    Console().print(table)


@app.command()
def deliveries(
    subscription_id: SubscriptionArg,
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """A subscription's deliveries, newest first."""
    with cli_session() as session:
        page = subscriptions.list_deliveries(session, subscription_id=subscription_id, limit=limit)
    if as_json:
        emit_json(page.model_dump(mode="json"))
        return
    table = Table(title=f"deliveries of {subscription_id} — {page.total}")
    for col in ("id", "range", "records", "status", "attempts", "file / error"):
        table.add_column(col)
    for d in page.items:
        table.add_row(
            d.id,
            f"({d.from_seq}, {d.to_seq}]",
            str(d.record_count),
            d.status.value,
            str(d.attempts),
            d.file_name or d.last_error or "—",
        )
    Console().print(table)


@app.command()
def pause(
    subscription_id: SubscriptionArg,
    reason: Annotated[str, typer.Option(help="Why (shown to the institution).")] = (
        "paused by an operator"
    ),
) -> None:
    """Stop deliveries to a subscription until it is resumed."""
    with cli_session() as session:
        sub = subscriptions.pause_subscription(
            session, subscription_id=subscription_id, reason=reason
        )
    emit_json(sub.model_dump(mode="json"))


@app.command()
def resume(subscription_id: SubscriptionArg) -> None:
    """Resume a subscription; a delivery that failed for good is retried at once."""
    with cli_session() as session:
        sub = subscriptions.resume_subscription(
            session, subscription_id=subscription_id, now=utcnow()
        )
    emit_json(sub.model_dump(mode="json"))


@app.command()
def delete(subscription_id: SubscriptionArg) -> None:
    """Delete a subscription and its delivery log (files already written stay on disk)."""
    with cli_session() as session:
        subscriptions.delete_subscription(session, subscription_id=subscription_id)
    typer.echo(f"deleted {subscription_id}")


def _progress(result: RunResult) -> None:
    what = "retried" if result.retried else "new"
    line = (
        f"{result.status.value:9} {what:7} {result.subscription_id} "
        f"({result.from_seq}, {result.to_seq}] {result.record_count} records"
    )
    echo_err(line + (f" — {result.error}" if result.error else ""))


def _summary_line(summary: RunSummary) -> str:
    return (
        f"{summary.subscriptions} subscriptions: {summary.delivered} delivered "
        f"({summary.records} records), {summary.retrying} to retry, {summary.failed} failed, "
        f"{summary.waiting} waiting"
    )


@app.command()
def run(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    interval: Annotated[
        float, typer.Option(min=1.0, help="Seconds between passes of the worker loop.")
    ] = 60.0,
    as_json: JsonOpt = False,
) -> None:
    """Deliver what is due: the worker loop (one transaction per pass; Ctrl-C stops it)."""
    settings = settings_or_exit()
    catalog = catalog_service.load_catalog(settings.catalog_path)
    engine = build_engine(settings)
    try:
        check_connection(engine)
        factory = session_factory(engine)
        with httpx2.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            while True:
                with session_scope(factory) as session:
                    summary = service.run_once(
                        session,
                        catalog=catalog,
                        settings=settings,
                        now=utcnow(),
                        http_client=client,
                        progress=None if as_json else _progress,
                    )
                if as_json:
                    emit_json(summary.model_dump(mode="json"))
                else:
                    typer.echo(_summary_line(summary))
                if once:
                    return
                time.sleep(interval)
    except KeyboardInterrupt:
        echo_err("stopped")
    finally:
        engine.dispose()
