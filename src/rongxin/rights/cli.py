"""``rongxin rights``: the daily sweep, the deadline dashboard, the working-day calendar and a
record's publicity terms.

Enterprises, providers and the operator act on cases through the API and the pages; the CLI runs
the daily job (``sweep``: publication ends at the maximum period, overdue cases are escalated)
and answers the questions operators ask about deadlines.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rongxin.cli_support import cli_session, emit_json, settings_or_exit
from rongxin.rights import calendar as calendar_mod
from rongxin.rights import deadlines, repair
from rongxin.rights import rules as rules_mod
from rongxin.rights.objections import china_today

app = typer.Typer(
    help="主体权益 — rights of the information subject: sweep, deadlines, calendar, publicity.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
DayOpt = Annotated[
    str | None,
    typer.Option("--today", help="Act as of this day (YYYY-MM-DD; default: today in China)."),
]


def _day(value: str | None) -> date:
    if value is None:
        return china_today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--today"
        ) from None


@app.command()
def sweep(today: DayOpt = None, as_json: JsonOpt = False) -> None:
    """End publication of records past their maximum period and escalate overdue cases (daily
    from cron)."""
    from rongxin.catalog import service as catalog_service

    settings = settings_or_exit()
    catalog = catalog_service.load_catalog(settings.catalog_path)
    rules = rules_mod.load_rules(settings.rights_rules_path)
    with cli_session(settings) as session:
        result = deadlines.sweep(
            session,
            catalog=catalog,
            rules=rules,
            today=_day(today),
            rerate=repair.rerate_hook(catalog, settings, deadlines.SWEEP_REASON),
        )
    if as_json:
        emit_json(result.model_dump(mode="json"))
        return
    typer.echo(
        f"{result.today}: {result.expired_records} record(s) no longer published, "
        f"{result.escalated_objections} objection(s) and {result.escalated_repairs} repair "
        f"application(s) escalated; {result.rerated_entities} entities re-rated"
    )
    if result.full_rating_needed:
        typer.echo(
            "more entities changed than are re-rated at once: run `rongxin rating run` now",
            err=True,
        )


@app.command("deadlines")
def deadlines_(
    today: DayOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 200,
    as_json: JsonOpt = False,
) -> None:
    """Open objections and repair applications, overdue first."""
    settings = settings_or_exit()
    cal = calendar_mod.load_calendar(settings.holiday_calendar_path)
    with cli_session(settings) as session:
        rows = deadlines.dashboard(session, calendar=cal, today=_day(today), limit=limit)
    if as_json:
        emit_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("case", "id", "USCC", "item", "step", "due", "working days left", "escalated")
    for r in rows:
        table.add_row(
            r.case_kind.value,
            r.case_id[:12],
            r.uscc,
            r.item_code,
            r.step,
            r.due_date.isoformat() + (" (overdue)" if r.overdue else ""),
            str(r.working_days_left),
            "yes" if r.escalated else "",
        )
    Console().print(table)


@app.command("add-working-days")
def add_working_days(
    start: Annotated[str, typer.Argument(help="The day counting starts after (YYYY-MM-DD).")],
    days: Annotated[int, typer.Argument(min=0, max=366, help="Working days to add.")],
) -> None:
    """The day a deadline of DAYS working days from START ends (Chinese holidays and 调休)."""
    settings = settings_or_exit()
    cal = calendar_mod.load_calendar(settings.holiday_calendar_path)
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(
            f"{start!r} is not a date (YYYY-MM-DD)", param_hint="START"
        ) from None
    typer.echo(cal.add_working_days(first, days).isoformat())


@app.command()
def publicity(
    decision_date: Annotated[str, typer.Argument(help="The penalty's decision date (YYYY-MM-DD).")],
    tier: Annotated[str, typer.Argument(help="轻微, 一般 or 严重.")],
    domain: Annotated[str | None, typer.Option(help="特种设备, 安全生产 or 消防.")] = None,
    item: Annotated[str, typer.Option(help="The catalog item.")] = "admin_penalty",
) -> None:
    """The rule, the repairable-from day and the end of publication of a penalty."""
    settings = settings_or_exit()
    rules = rules_mod.load_rules(settings.rights_rules_path)
    if item not in rules.repairable_items():
        raise typer.BadParameter(f"no publicity rule covers item {item}", param_hint="--item")
    fields = next(r.items[item] for r in rules.publicity_rules if item in r.items)
    payload = {fields.decision_date: decision_date, fields.tier: tier}
    if fields.domain and domain:
        payload[fields.domain] = domain
    terms = rules.publicity(item, payload)
    if terms is None:
        raise typer.BadParameter("no rule gives a period for this date and tier", param_hint="TIER")
    typer.echo(f"rule: {terms.rule_title} ({terms.rule_code})")
    typer.echo(f"repairable from: {terms.repairable_from.isoformat()}")
    typer.echo(f"published until (first day not published): {terms.published_until.isoformat()}")
