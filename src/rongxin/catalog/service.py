"""Loading, validating and querying the information catalog."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rongxin.catalog.errors import CatalogFileError, UnknownItem
from rongxin.catalog.schemas import Catalog, Item, ItemList, ItemSummary

DEFAULT_CATALOG = "default_catalog.yaml"


def _node_line(root: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """1-based line of the YAML node at ``loc`` (the deepest one that exists)."""
    node, line = root, None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line


def parse_catalog(text: str, *, source: str) -> Catalog:
    """Parse and validate catalog text (YAML or JSON); errors name source, line and field."""
    try:
        data: Any = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise CatalogFileError(f"{where}: not valid YAML/JSON: {exc}", file=source) from exc
    if not isinstance(data, dict):
        raise CatalogFileError(f"{source}: a catalog must be a mapping at the top", file=source)
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if not isinstance(p, str) or not p.startswith("function")]
            line = _node_line(root, loc)
            field = ".".join(str(p) for p in loc) or "(top)"
            problems.append({"file": source, "line": line, "field": field, "reason": err["msg"]})
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise CatalogFileError(
            f"{first['file']}:{first['line']}: {first['field']}: {first['reason']}{more}",
            problems=problems,
        ) from exc


@cache
def _default_catalog() -> Catalog:
    ref = resources.files("rongxin") / "data" / DEFAULT_CATALOG
    return parse_catalog(ref.read_text(encoding="utf-8"), source=f"rongxin/data/{DEFAULT_CATALOG}")


def load_catalog(path: Path | None = None) -> Catalog:
    """The operator's catalog file when given, else the shipped default."""
    if path is None:
        return _default_catalog()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogFileError(f"{path}: cannot read catalog file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CatalogFileError(f"{path}: catalog file must be UTF-8 ({exc.reason})") from exc
    return parse_catalog(text, source=str(path))


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
