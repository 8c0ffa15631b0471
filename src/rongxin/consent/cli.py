"""``rongxin consent``: operator tooling for enterprise authorizations (list, show, expire).

Enterprises and institutions act through the API and the pages; the CLI only reads, and
records expiry (``expire``, e.g. from cron — reads never wait for it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rongxin.cli_support import cli_session, echo_err, emit_json, settings_or_exit
from rongxin.consent import lifecycle, service
from rongxin.consent.evidence import evidence_key
from rongxin.consent.schemas import AuthorizationStatus
from rongxin.db.base import utcnow

app = typer.Typer(
    help="企业授权 — enterprise authorizations: list, show (with evidence check), expire.",
    no_args_is_help=True,
)

EXPIRE_SLICE = 5_000
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _moment(value: datetime | None) -> datetime:
    if value is None:
        return utcnow()
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@app.command("list")
def list_(
    uscc: Annotated[str | None, typer.Option(help="Only this enterprise's (USCC).")] = None,
    institution: Annotated[str | None, typer.Option(help="Only this institution's.")] = None,
    status: Annotated[
        list[AuthorizationStatus] | None,
        typer.Option(help="Only this status (repeatable); expiry counts at once."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """List authorizations, newest first."""
    with cli_session() as session:
        page = service.list_authorizations(
            session,
            now=utcnow(),
            uscc=uscc,
            institution_code=institution,
            statuses=status or (),
            limit=limit,
        )
    if as_json:
        emit_json(page.model_dump(mode="json"))
        return
    table = Table(title=f"authorizations — {len(page.items)} of {page.total}")
    for col in ("id", "uscc", "institution", "purpose", "mode", "items", "valid until", "status"):
        table.add_column(col)
    for a in page.items:
        table.add_row(
            a.id,
            a.uscc,
            a.institution_code,
            a.purpose.value,
            a.access_mode.value,
            ",".join(a.items),
            a.valid_until.isoformat(timespec="minutes"),
            a.status.value + (" (reconfirm!)" if a.needs_reconfirmation else ""),
        )
    Console().print(table)


@app.command()
def show(
    authorization_id: Annotated[str, typer.Argument(help="The authorization id.")],
) -> None:
    """One authorization with its state history and whether its evidence verifies (JSON)."""
    settings = settings_or_exit()
    key = evidence_key(settings.secret_key)
    with cli_session(settings) as session:
        detail = service.get_authorization(session, authorization_id=authorization_id, now=utcnow())
        checked = service.verify_evidence(session, authorization_id=authorization_id, key=key)
    out = detail.model_dump(mode="json")
    out["evidence"] = {
        "present": bool(checked.canonical),
        "verified": checked.verified,
        "reason": checked.reason,
        "key_id": checked.key_id,
    }
    emit_json(out)


@app.command()
def expire(
    at: Annotated[
        datetime | None,
        typer.Option(help="Record expiry as of this time (UTC when no zone; default: now)."),
    ] = None,
) -> None:
    """Record the 'expired' state change of every authorization whose validity has ended."""
    when = _moment(at)
    ids: list[str] = []
    with cli_session() as session:
        while True:  # in slices, so that a large backlog does not load at once
            done = lifecycle.expire_due(session, now=when, limit=EXPIRE_SLICE)
            ids.extend(done)
            if len(done) < EXPIRE_SLICE:
                break
    emit_json({"expired": len(ids), "ids": ids, "at": when.isoformat()})
    echo_err(f"已过期 expired: {len(ids)}")
