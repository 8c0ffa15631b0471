"""``rongxin entities`` (show, search, import) and ``rongxin uscc check``."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from rongxin.catalog import service as catalog_service
from rongxin.cli_support import cli_session, echo_err, emit_json, settings_or_exit
from rongxin.entities import registry, service
from rongxin.entities import search as entity_search
from rongxin.ingest.errors import FileRejected

app = typer.Typer(help="市场主体 — market entities: look up, search, import.", no_args_is_help=True)
uscc_app = typer.Typer(help="统一社会信用代码 — USCC tools.", no_args_is_help=True)


@uscc_app.callback()
def _uscc() -> None:
    """统一社会信用代码 (GB 32100-2015) — USCC tools."""


AllowListOpt = Annotated[
    Path | None,
    typer.Option(
        "--allow-list",
        help="File of legacy codes admitted despite a failing position-18 check (one per line).",
    ),
]


@app.command()
def show(uscc: str = typer.Argument(..., help="The entity's USCC.")) -> None:
    """Print one entity as JSON."""
    with cli_session() as session:
        entity = service.get_entity(session, uscc=uscc)
    emit_json(entity.model_dump(mode="json"))


@app.command()
def search(
    q: str = typer.Argument(..., help="Part of the name (e.g. 鼓楼), or a full USCC."),
    limit: int = typer.Option(20, min=1, max=200, help="At most this many results."),
    offset: int = typer.Option(0, min=0, help="Skip this many results."),
    region: str | None = typer.Option(None, help="GB/T 2260 code or prefix, e.g. 35 or 3501."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Search entities by partial name or USCC."""
    with cli_session() as session:
        page = entity_search.search_entities(
            session, q=q, limit=limit, offset=offset, region_prefix=region
        )
    if as_json:
        emit_json(page.model_dump(mode="json"))
        return
    table = Table(title=f"{q} — {page.total}")
    table.add_column("统一社会信用代码", no_wrap=True, min_width=18)
    for col in ("名称", "类型", "地区", "行业", "规模", "状态"):
        table.add_column(col)
    for e in page.items:
        table.add_row(
            e.uscc,
            e.name,
            e.entity_type_name,
            e.region_full_name or e.region_code,
            e.industry_name or e.industry_code,
            e.size_class_name or "—",
            e.status,
        )
    Console().print(table)


def _parse_date(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (use YYYY-MM-DD)") from None


@app.command("import")
def import_(
    registration: Annotated[
        Path, typer.Option(help="Registration file (.csv, .jsonl or .parquet).")
    ],
    annual_report: Annotated[
        Path | None, typer.Option(help="Annual-report file (gives size classes).")
    ] = None,
    as_of: str | None = typer.Option(None, help="Size-class rules in force on (default today)."),
    allow_list: AllowListOpt = None,
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Import (upsert) market entities; all or nothing — any invalid row stops the import."""
    settings = settings_or_exit()
    on = _parse_date(as_of)
    allowed = service.load_allow_list(allow_list or settings.uscc_allowlist_path)
    catalog = catalog_service.load_catalog(settings.catalog_path)
    console = Console(stderr=True)
    try:
        with (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
                disable=as_json or not console.is_terminal,
            ) as bar,
            cli_session(settings) as session,
        ):
            tasks: dict[str, TaskID] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            summary = registry.import_entities(
                session,
                registration=registration,
                annual_report=annual_report,
                origin_node=settings.node_id,
                as_of=on,
                catalog=catalog,
                allow_list=allowed,
                progress=progress,
            )
    except FileRejected as exc:
        echo_err(f"错误 error: {exc.message}")
        problems = exc.details.get("problems", [])
        for p in problems:
            echo_err(f"  {p['file']}, line {p['line']}, field {p['field']}: {p['reason']}")
        count = exc.details.get("problem_count", len(problems))
        if count > len(problems):
            echo_err(f"  … {count - len(problems)} more")
        raise typer.Exit(2) from None
    if as_json:
        emit_json(summary.model_dump(mode="json"))
        return
    typer.echo(
        f"imported {summary.registration_rows} registrations"
        + (
            f" and {summary.annual_report_rows} annual reports"
            if summary.annual_report_file
            else ""
        )
        + f": {summary.inserted} new, {summary.updated} updated, {summary.unchanged} unchanged; "
        f"{summary.sized} with a size class ({summary.size_rule}); origin {summary.origin_node}"
    )


@uscc_app.command()
def check(
    codes: Annotated[list[str], typer.Argument(help="One or more codes.")],
    allow_list: AllowListOpt = None,
) -> None:
    """Validate codes: one JSON object per line; exit code 1 when any code is invalid."""
    allowed = service.load_allow_list(allow_list or settings_or_exit().uscc_allowlist_path)
    results = service.check_usccs(codes, allow_list=allowed)
    for r in results:
        emit_json(r.model_dump(mode="json"))
    if not all(r.valid for r in results):
        raise typer.Exit(1)
