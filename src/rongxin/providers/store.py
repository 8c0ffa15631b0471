"""A department's own data, loaded for its service: one typed, USCC-sorted columnar frame per
item, looked up by binary search (no per-row Python structures, so a few million rows fit).

Files are found in the data folder as ``<item>.csv|.jsonl|.ndjson|.parquet`` (or under
``<provider>/``, the layout ``rongxin synth`` writes) and validated against the catalog exactly
like a delivery (``rongxin.ingest.validation``): a bad file stops the service with the file,
line, field and reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from rongxin.catalog.schemas import Catalog, Item, SharingMode
from rongxin.errors import InvalidInput
from rongxin.ingest.validation import FORMATS, ROW, read_table, validate_table
from rongxin.logging import get_logger
from rongxin.providers.errors import ItemNotServed
from rongxin.providers.schemas import FieldValue

log = get_logger(__name__)

#: the sharing modes a provider's service answers for
SERVED_MODES = frozenset({SharingMode.interface, SharingMode.verification})


@dataclass(frozen=True, slots=True)
class ServedItem:
    item: Item
    path: Path
    frame: pl.DataFrame  # typed catalog fields, sorted by uscc

    @property
    def rows(self) -> int:
        return self.frame.height


def _json_value(value: Any) -> FieldValue:
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class ProviderStore:
    """The items one provider serves, in memory."""

    def __init__(self, provider_code: str, items: dict[str, ServedItem]) -> None:
        self.provider_code = provider_code
        self._items = items

    @property
    def item_codes(self) -> list[str]:
        return sorted(self._items)

    def served(self, code: str) -> ServedItem:
        try:
            return self._items[code]
        except KeyError:
            served = ", ".join(self.item_codes) or "none"
            raise ItemNotServed(
                f"item {code!r} is not served here (provider {self.provider_code} serves: "
                f"{served})",
                field="item",
            ) from None

    def rows(self, code: str, uscc: str) -> list[dict[str, FieldValue]]:
        """Every record of ``uscc`` for item ``code`` (JSON-ready values)."""
        frame = self.served(code).frame
        column = frame["uscc"]
        lo = int(column.search_sorted(uscc, side="left"))
        hi = int(column.search_sorted(uscc, side="right"))
        if hi <= lo:
            return []
        return [
            {k: _json_value(v) for k, v in row.items()}
            for row in frame.slice(lo, hi - lo).to_dicts()
        ]

    @classmethod
    def load(
        cls,
        catalog: Catalog,
        *,
        provider_code: str,
        data_dir: Path,
        allow_list: frozenset[str] = frozenset(),
    ) -> ProviderStore:
        """Find, read and validate the provider's interface and verification item files."""
        try:
            catalog.provider(provider_code)
        except KeyError:
            known = ", ".join(p.code for p in catalog.providers)
            raise InvalidInput(
                f"--provider {provider_code!r} is not in the catalog (providers: {known})",
                field="provider",
            ) from None
        if not data_dir.is_dir():
            raise InvalidInput(f"--data {data_dir}: no such folder", field="data")
        wanted = [
            i
            for i in catalog.items
            if i.provider == provider_code and i.sharing_mode in SERVED_MODES
        ]
        if not wanted:
            raise InvalidInput(
                f"provider {provider_code!r} has no interface or verification items in the "
                "catalog: nothing to serve",
                field="provider",
            )
        items: dict[str, ServedItem] = {}
        for item in wanted:
            path = _find_file(data_dir, provider_code, item.code)
            if path is None:
                log.warning("provider_item_file_missing", item=item.code, folder=str(data_dir))
                continue
            table = read_table(path)
            typed, problems = validate_table(table, item, allow_list=allow_list)
            problems.raise_if_any()
            frame = typed.drop(ROW).sort("uscc")
            items[item.code] = ServedItem(item, path, frame)
            log.info("provider_item_loaded", item=item.code, rows=frame.height, file=path.name)
        if not items:
            names = ", ".join(f"{i.code}.csv|.jsonl|.parquet" for i in wanted)
            raise InvalidInput(
                f"--data {data_dir}: no data file for any of the provider's items; expected "
                f"{names} (in the folder or its {provider_code}/ subfolder)",
                field="data",
            )
        return cls(provider_code, items)


def _find_file(data_dir: Path, provider_code: str, item_code: str) -> Path | None:
    for folder in (data_dir, data_dir / provider_code):
        found = [
            folder / f"{item_code}{ext}"
            for ext in FORMATS
            if (folder / f"{item_code}{ext}").is_file()
        ]
        if len(found) > 1:
            raise InvalidInput(
                f"{folder}: more than one file for item {item_code} "
                f"({', '.join(p.name for p in found)}); keep one",
                field="data",
            )
        if found:
            return found[0]
    return None
