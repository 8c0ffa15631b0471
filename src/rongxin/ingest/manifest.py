"""Delivery packages: a ``manifest.json`` that lists files with provider, item, format, rows and
checksum (what ``rongxin synth`` writes, and what a department sends)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ValidationError

from rongxin.catalog.schemas import Catalog, SharingMode
from rongxin.ingest.errors import FileRejected
from rongxin.ingest.service import Delivery


class ManifestFile(BaseModel):
    path: str
    provider: str
    item: str
    format: str | None = None
    encoding: str | None = None
    rows: int | None = None
    sha256: str | None = None


class Manifest(BaseModel):
    files: list[ManifestFile]


def read_manifest(path: Path, catalog: Catalog) -> tuple[list[Delivery], list[ManifestFile]]:
    """The deliveries of physically aggregated catalog items, and the files skipped: those that
    are not catalog items (e.g. the loan outcomes institutions share back, which are not
    provider data) and those of interface or verification items, which the platform never
    stores (M2, M3: their provider answers at query time, ``rongxin provider serve``)."""
    try:
        manifest = Manifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError) as exc:
        raise FileRejected(f"{path}: not a readable delivery manifest: {exc}") from exc
    known = {i.code for i in catalog.items if i.sharing_mode is SharingMode.physical}
    base = path.parent
    deliveries, skipped = [], []
    for entry in manifest.files:
        if entry.item not in known:
            skipped.append(entry)
            continue
        file_path = (base / entry.path).resolve()
        if base.resolve() not in file_path.parents:
            raise FileRejected(f"{path}: file {entry.path!r} lies outside the package folder")
        deliveries.append(
            Delivery(
                path=file_path,
                provider_code=entry.provider,
                item_code=entry.item,
                source_name=f"{path.parent.name}/{entry.path}",
                encoding=entry.encoding,
                expected_sha256=entry.sha256,
            )
        )
    return deliveries, skipped
