"""``rongxin catalog``: list, show and export the information catalog."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from rongxin.catalog import service
from rongxin.catalog.schemas import Catalog
from rongxin.cli_support import emit_json, settings_or_exit

app = typer.Typer(help="信用信息共享清单 — the information catalog.", no_args_is_help=True)

CatalogOpt = typer.Option(
    None, "--catalog", help="Catalog file to use instead of RONGXIN_CATALOG_PATH / the default."
)


def _catalog(path: Path | None) -> Catalog:
    return service.load_catalog(path or settings_or_exit().catalog_path)


@app.command("list")
def list_(
    category: str | None = typer.Option(None, help="Only this category."),
    provider: str | None = typer.Option(None, help="Only this provider."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    catalog_file: Path | None = CatalogOpt,
) -> None:
    """List catalog items with their sharing mode, level and attributes."""
    catalog = _catalog(catalog_file)
    result = service.list_items(catalog, category=category, provider=provider)
    if as_json:
        emit_json(result.model_dump(mode="json"))
        return
    table = Table(title=f"{catalog.title} {catalog.version} ({result.total})")
    for col in ("code", "名称", "类别", "提供单位", "方式", "授权", "级别", "共享", "公开", "频度"):
        table.add_column(col)
    for i in result.items:
        table.add_row(
            i.code,
            i.name,
            i.category,
            i.provider,
            i.sharing_mode.value,
            "是" if i.authorization_required else "否",
            str(i.level),
            i.sharing.value,
            i.disclosure.value,
            i.update_frequency.value,
        )
    Console().print(table)


@app.command()
def show(
    item: str = typer.Argument(..., help="Item code, e.g. admin_penalty."),
    catalog_file: Path | None = CatalogOpt,
) -> None:
    """Show one item with all its fields and attributes (JSON)."""
    emit_json(service.get_item(_catalog(catalog_file), item).model_dump(mode="json"))


@app.command()
def export(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here, not stdout."),
    catalog_file: Path | None = CatalogOpt,
) -> None:
    """Export the whole catalog as JSON (every attribute set)."""
    text = service.export_catalog(_catalog(catalog_file))
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


@app.command()
def validate(path: Path = typer.Argument(..., help="A catalog file to check.")) -> None:
    """Validate a catalog file; errors name the file, line and field."""
    catalog = service.load_catalog(path)
    typer.echo(f"{path}: valid — {len(catalog.items)} items, {len(catalog.providers)} providers")
