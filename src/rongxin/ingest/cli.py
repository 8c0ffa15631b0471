"""``rongxin ingest`` (physical aggregation) and ``rongxin quality`` (data quality, S4)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from rongxin.catalog import service as catalog_service
from rongxin.cli_support import cli_session, emit_json, settings_or_exit
from rongxin.entities import service as entities_service
from rongxin.ingest import quality
from rongxin.ingest.manifest import read_manifest
from rongxin.ingest.schemas import BatchResult, BatchStatus
from rongxin.ingest.service import Delivery, ingest_file

err = Console(stderr=True)


def _say(result: BatchResult) -> str:
    name = f"{result.provider_code}/{result.item_code}"
    if result.status is BatchStatus.rejected:
        first = result.problems[0] if result.problems else None
        where = (
            f"{first.file} line {first.line}, field {first.field}: {first.reason}" if first else ""
        )
        return f"✗ {name}: rejected, {result.problem_count} problem(s); {where}; nothing written"
    if result.status is BatchStatus.duplicate:
        return f"= {name}: identical to batch {result.duplicate_of}; {result.unchanged:,} unchanged"
    return (
        f"✓ {name}: {result.row_count:,} rows — {result.inserted:,} inserted, "
        f"{result.updated:,} updated, {result.unchanged:,} unchanged (batch {result.id})"
    )


def ingest_command(
    files: list[Path] = typer.Argument(None, help="Files for one item (CSV, JSONL or Parquet)."),
    provider: str | None = typer.Option(None, help="Provider code (with --item and FILE...)."),
    item: str | None = typer.Option(None, help="Catalog item code (with --provider)."),
    manifest: Path | None = typer.Option(None, help="A delivery package's manifest.json."),
    encoding: str | None = typer.Option(None, help="CSV encoding (utf-8 or gb18030); detected."),
    as_json: bool = typer.Option(False, "--json", help="One JSON result per batch on stdout."),
) -> None:
    """Aggregate delivered files: each file is one all-or-nothing batch, committed on its own.

    Exit code 0 when every batch was committed (or recognised as already received), 1 when
    any batch was rejected (its report names file, line, field and reason), 2 on errors.
    """
    settings = settings_or_exit()
    catalog = catalog_service.load_catalog(settings.catalog_path)
    if manifest is not None:
        if files or provider or item:
            raise typer.BadParameter("use either --manifest or --provider/--item FILE...")
        deliveries, skipped = read_manifest(manifest, catalog)
        for entry in skipped:
            reason = (
                f"{entry.item!r} is not a catalog item"
                if entry.item not in {i.code for i in catalog.items}
                else f"{entry.item!r} is not stored: its provider answers at query time"
            )
            err.print(f"· skipped {entry.path}: {reason}")
    else:
        if not (files and provider and item):
            raise typer.BadParameter(
                "give --provider, --item and at least one FILE (or --manifest)"
            )
        deliveries = [
            Delivery(path=f, provider_code=provider, item_code=item, encoding=encoding)
            for f in files
        ]
    allow_list = entities_service.load_allow_list(settings.uscc_allowlist_path)
    rejected = 0
    totals = {"inserted": 0, "updated": 0, "unchanged": 0, "rows": 0}
    with Progress(
        TextColumn("{task.description}"), BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"), TimeElapsedColumn(),
        console=err, transient=True, disable=as_json,
    ) as bar:  # fmt: skip
        task: TaskID = bar.add_task("", total=1)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=max(total, 1))

        for delivery in deliveries:
            bar.update(task, description=f"{delivery.item_code}: read", completed=0)
            # One transaction per batch: a crash loses at most the batch in flight.
            with cli_session(settings) as session:
                result = ingest_file(
                    session, catalog=catalog, delivery=delivery, origin_node=settings.node_id,
                    as_of=date.today(), allow_list=allow_list, progress=progress,
                )  # fmt: skip
            rejected += result.status is BatchStatus.rejected
            for key in ("inserted", "updated", "unchanged"):
                totals[key] += getattr(result, key)
            totals["rows"] += result.row_count
            if as_json:
                emit_json(result.model_dump(mode="json"))
            else:
                bar.console.print(_say(result))
    if not as_json:
        err.print(
            f"{len(deliveries)} batch(es): {totals['rows']:,} rows — {totals['inserted']:,} "
            f"inserted, {totals['updated']:,} updated, {totals['unchanged']:,} unchanged; "
            f"{rejected} rejected"
        )
    if rejected:
        raise typer.Exit(1)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


quality_app = typer.Typer(
    help="数据质量 — data quality of delivered data (S4).", no_args_is_help=True
)


@quality_app.command("report")
def quality_report(
    provider: str | None = typer.Option(None, help="Only this provider."),
    item: str | None = typer.Option(None, help="Only this item."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Completeness, validity, timeliness and duplicates per provider and item."""
    with cli_session() as session:
        rows = quality.quality_report(session, provider=provider, item=item)
    if as_json:
        for row in rows:
            emit_json(row.model_dump(mode="json"))
        return
    table = RichTable(title="数据质量 Data quality")
    for col in (
        "provider",
        "item",
        "batches",
        "rejected",
        "rows",
        "completeness",
        "validity",
        "timeliness (days)",
        "duplicates",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.provider_code, r.item_code, str(r.batches), str(r.rejected_batches), f"{r.rows:,}",
            _pct(r.completeness), _pct(r.validity),
            "—" if r.timeliness_median_days is None else f"{r.timeliness_median_days:.0f}",
            _pct(r.duplicate_rate),
        )  # fmt: skip
    Console().print(table)
