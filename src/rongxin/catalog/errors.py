from __future__ import annotations

from rongxin.errors import InvalidInput, NotFound


class CatalogFileError(InvalidInput):
    """The catalog file is malformed; the message names file, line and field."""

    code = "catalog_file_invalid"


class UnknownItem(NotFound):
    code = "unknown_item"
