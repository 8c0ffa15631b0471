"""``rongxin synth``: write a realistic delivery package for testing and demos."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rongxin.catalog import service as catalog_service
from rongxin.cli_support import cli_session, emit_json, settings_or_exit
from rongxin.synth import access, service
from rongxin.synth.writer import FileFormat


def synth_command(
    enterprises: int = typer.Option(
        ..., "--enterprises", "-n", min=1, help="Number of market entities."
    ),
    seed: int = typer.Option(7, "--seed", help="Random seed: the same seed gives identical files."),
    out: Path = typer.Option(Path("var/synth"), "--out", help="Output folder."),
    fmt: FileFormat = typer.Option(FileFormat.csv, "--format", help="csv, jsonl or parquet."),
    encoding: str = typer.Option("utf-8", help="CSV encoding: utf-8 or gb18030."),
    as_of: str = typer.Option(
        service.DEFAULT_AS_OF.isoformat(), "--as-of", help="Data as of this date (YYYY-MM-DD)."
    ),
    months: int = typer.Option(
        12, help="Months of monthly series (tax, social insurance, utilities)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a machine-readable summary."),
) -> None:
    """Write, per provider and catalog item, the files that provider would deliver."""
    try:
        as_of_date: date = datetime.strptime(as_of, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(
            f"{as_of!r} is not a date like 2026-09-30", param_hint="--as-of"
        ) from None
    catalog = catalog_service.load_catalog(settings_or_exit().catalog_path)
    with Progress(
        TextColumn("synth"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        transient=True, disable=as_json,
    ) as bar:  # fmt: skip
        task = bar.add_task("entities", total=enterprises)
        summary = service.generate(
            catalog, enterprises=enterprises, seed=seed, out=out, fmt=fmt, encoding=encoding,
            as_of=as_of_date, months=months, progress=lambda n: bar.advance(task, n),
        )  # fmt: skip
    if as_json:
        emit_json({
            "out": summary.out, "enterprises": summary.enterprises, "seed": summary.seed,
            "as_of": summary.as_of, "files": len(summary.files), "rows": summary.total_rows,
        })  # fmt: skip
    else:
        typer.echo(
            f"wrote {len(summary.files)} files, {summary.total_rows:,} rows for "
            f"{enterprises:,} entities to {out} (manifest: {out / 'manifest.json'})"
        )


def synth_access_command(
    enterprises: int = typer.Option(3, "--enterprises", "-n", min=1, max=50, help="Enterprises."),
    out: Path = typer.Option(
        Path("var/demo-access.json"), "--out", help="Where to write the demo credentials."
    ),
) -> None:
    """Demo parties on a loaded node: an onboarded bank, enterprises with API keys, an active
    pre-loan authorization from the first enterprise to the bank, and two rights cases (an
    objection with the provider, a repair application under review; tokens → ``--out``)."""
    settings = settings_or_exit()
    catalog = catalog_service.load_catalog(settings.catalog_path)
    with cli_session(settings) as session:
        seeded = access.seed_access(
            session, catalog=catalog, settings=settings, enterprises=enterprises
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(seeded, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    out.chmod(0o600)
    first = seeded["authorization"]
    typer.echo(
        f"demo bank {seeded['institution']['code']} and {len(seeded['enterprises'])} "
        f"enterprises; {first['uscc']} authorized {', '.join(first['items'])} "
        f"({first['purpose']}) — tokens in {out}",
        err=True,
    )
    cases = seeded["rights"]
    if cases:
        typer.echo(
            f"rights demo: {cases['objection']['uscc']} has an objection with the provider, "
            f"{cases['repair']['uscc']} a credit-repair application under review",
            err=True,
        )
