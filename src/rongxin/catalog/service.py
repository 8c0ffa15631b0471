"""Loading, validating and querying the information catalog."""

from __future__ import annotations

import json
from pathlib import Path

from rongxin.catalog.errors import CatalogFileError, UnknownItem
from rongxin.catalog.schemas import Catalog, Item, ItemList, ItemSummary
from rongxin.kit import data_files

DEFAULT_CATALOG = "default_catalog.yaml"


def parse_catalog(text: str, *, source: str) -> Catalog:
    """Parse and validate catalog text (YAML or JSON); errors name source, line and field."""
    return data_files.parse(text, Catalog, source=source, error=CatalogFileError)


def load_catalog(path: Path | None = None) -> Catalog:
    """The operator's catalog file when given, else the shipped default."""
    return data_files.shipped_or_file(
        Catalog, shipped=DEFAULT_CATALOG, path=path, what="catalog file", error=CatalogFileError
    )


def get_item(catalog: Catalog, code: str) -> Item:
    try:
        return catalog.item(code)
    except KeyError:
        known = ", ".join(sorted(i.code for i in catalog.items)[:10])
        raise UnknownItem(
            f"unknown catalog item {code!r}; `rongxin catalog list` shows the items "
            f"(for example: {known} …)",
            item=code,
        ) from None


def summarize(item: Item) -> ItemSummary:
    """The item's attributes without its fields (lists)."""
    return ItemSummary.model_validate(
        {**item.model_dump(exclude={"fields"}), "field_count": len(item.fields)}
    )


def list_items(
    catalog: Catalog,
    *,
    category: str | None = None,
    provider: str | None = None,
    sharing_mode: str | None = None,
) -> ItemList:
    items = [
        summarize(i)
        for i in catalog.items
        if (category is None or i.category == category)
        and (provider is None or i.provider == provider)
        and (sharing_mode is None or i.sharing_mode == sharing_mode)
    ]
    return ItemList(
        version=catalog.version,
        effective_date=catalog.effective_date,
        items=items,
        total=len(items),
    )


def export_catalog(catalog: Catalog) -> str:
    """The whole catalog as JSON (every attribute set, including defaults)."""
    return json.dumps(catalog.model_dump(mode="json"), ensure_ascii=False, indent=2)
