"""An assembled credit report as plain data (``ReportDocument``): what the JSON API sends.

Assembly (``rongxin.reports.assembly``) builds the report as dicts and lists in the exact shape
of ``CreditReport`` (``rongxin.reports.schemas``). The JSON API serialises that data as it is,
with orjson — validating the whole report into pydantic models only to dump it again cost more
than assembling it. Renderings (HTML, PDF, pages, CLI) take :attr:`ReportDocument.model`, the
validated ``CreditReport``. The tests hold the two together: for every kind of viewer the JSON
of the document and the JSON of its model are the same document.

The issuance log reads what it needs (who, which items, which authorizations, which providers)
from the document too, so logging a report never needs the model.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any, Final, NamedTuple, cast

import orjson

from rongxin.reports.schemas import CreditReport, ReportPurpose

#: UTC times as ``…Z`` and naive-free ISO 8601, as pydantic writes them
_JSON_OPTIONS: Final = orjson.OPT_UTC_Z


class ShownItem(NamedTuple):
    """An item whose records a report shows: for the issuance log and usage feedback (V1)."""

    item_code: str
    provider_code: str
    total: int
    authorization_id: str | None


class ReportDocument:
    """One assembled report: :attr:`data` in the shape of ``CreditReport`` (read-only: parts
    of it are shared with other reports)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @cached_property
    def model(self) -> CreditReport:
        """The report validated as ``CreditReport`` (for renderings; the JSON API skips it)."""
        return CreditReport.model_validate(self.data)

    def json(self) -> bytes:
        """The report as JSON (``application/json``), the same document ``model`` dumps."""
        return orjson.dumps(self.data, option=_JSON_OPTIONS)

    # ---- what the issuance log needs -----------------------------------------------------

    @property
    def report_id(self) -> str:
        return cast(str, self.data["report_id"])

    @property
    def uscc(self) -> str:
        return cast(str, self.data["subject"]["uscc"])

    @property
    def generated_at(self) -> datetime:
        return cast(datetime, self.data["generated_at"])

    @property
    def record_count(self) -> int:
        return cast(int, self.data["summary"]["record_count"])

    @property
    def requester(self) -> dict[str, Any]:
        """``kind`` (a ``RequesterKind``), ``code`` and ``user_id``."""
        return cast(dict[str, Any], self.data["requester"])

    @property
    def purpose(self) -> ReportPurpose:
        return cast(ReportPurpose, self.data["purpose"]["code"])

    @cached_property
    def shown(self) -> list[ShownItem]:
        """Every item shown as available (records or not), in report order."""
        return [
            ShownItem(
                item_code=item["item_code"],
                provider_code=item["provider"]["code"],
                total=item["total"] or 0,
                authorization_id=item["authorization_id"],
            )
            for section in self.data["sections"]
            for item in section["items"]
            if item["available"]
        ]
