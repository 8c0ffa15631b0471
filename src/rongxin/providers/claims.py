"""Checking claims against records: pure functions shared by a provider's service (its own
files) and the platform (aggregated records). Values are compared typed, by the catalog field's
type; only outcomes leave this module.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from rongxin.catalog.schemas import FieldDef, FieldType, Item
from rongxin.entities import uscc as uscc_codes
from rongxin.ingest.validation import BOOLEAN_TEXT
from rongxin.providers.errors import InvalidClaim
from rongxin.providers.schemas import (
    Claim,
    ClaimAggregate,
    ClaimOp,
    ClaimOutcome,
    ClaimResult,
    Scalar,
)

NUMERIC: Final = frozenset({FieldType.integer, FieldType.decimal})
ORDERED: Final = NUMERIC | {FieldType.date, FieldType.month}
#: fields never checked: the subject itself, and identifiers of people (ask the subject)
UNCHECKABLE: Final = frozenset({FieldType.uscc, FieldType.id_number, FieldType.mobile})
TOLERANCE: Final = 1e-6

Comparable = str | float | bool | date


def coerce(f: FieldDef, raw: Any) -> Comparable | None:
    """``raw`` (from a file, a JSON payload or a claim) as a comparable value of ``f``'s type;
    ``None`` for a blank; ``ValueError`` when it is not a value of that type."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if f.type in NUMERIC:
        if isinstance(raw, bool):
            raise ValueError("expected a number, not true/false")
        number = float(raw)
        if not math.isfinite(number):
            raise ValueError("expected a finite number")
        if f.type is FieldType.integer and number != math.floor(number):
            raise ValueError("expected a whole number")
        return number
    if f.type is FieldType.date:
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        return date.fromisoformat(str(raw).strip()[:10])
    if f.type is FieldType.month:
        text = str(raw).strip()[:7]
        date.fromisoformat(text + "-01")  # validates YYYY-MM
        return text
    if f.type is FieldType.boolean:
        if isinstance(raw, bool):
            return raw
        value = BOOLEAN_TEXT.get(str(raw).strip().lower())
        if value is None:
            raise ValueError("expected true or false")
        return value
    if isinstance(raw, bool | dict | list):
        raise ValueError("expected text")
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if f.type is FieldType.uscc:
        return uscc_codes.normalize(text)
    if f.type is FieldType.enum and f.allowed and text not in f.allowed:
        raise ValueError(f"must be one of {', '.join(f.allowed)}")
    return text


@dataclass(frozen=True, slots=True)
class PreparedClaim:
    index: int
    claim: Claim
    field: FieldDef
    value: Comparable | None
    low: Comparable | None
    high: Comparable | None


def _field(item: Item, name: str, where: str) -> FieldDef:
    try:
        return item.field(name)
    except KeyError:
        names = ", ".join(f.name for f in item.fields)
        raise InvalidClaim(
            f"{where}: {item.code} has no field {name!r} (fields: {names})", field=where
        ) from None


def _typed(f: FieldDef, raw: Scalar | None, where: str) -> Comparable | None:
    try:
        value = coerce(f, raw)
    except (ValueError, TypeError) as exc:
        raise InvalidClaim(
            f"{where}: {raw!r} is not a valid {f.type.value} for field {f.name!r} ({exc})",
            field=where,
        ) from None
    return value


def prepare_claims(item: Item, claims: Sequence[Claim]) -> list[PreparedClaim]:
    """Check every claim against the item's fields; errors name the input (``claims[1].low``)."""
    prepared = []
    for n, claim in enumerate(claims):
        at = f"claims[{n}]"
        f = _field(item, claim.field, f"{at}.field")
        if f.type in UNCHECKABLE:
            raise InvalidClaim(
                f"{at}.field: {f.name!r} ({f.type.value}) cannot be verified", field=f"{at}.field"
            )
        ordered = f.type in ORDERED
        if claim.op is not ClaimOp.eq and not ordered:
            raise InvalidClaim(
                f"{at}.op: {claim.op.value!r} needs a number, date or month field; "
                f"{f.name!r} is {f.type.value} (use eq)",
                field=f"{at}.op",
            )
        if claim.aggregate is ClaimAggregate.sum and f.type not in NUMERIC:
            raise InvalidClaim(
                f"{at}.aggregate: sum needs a number field; {f.name!r} is {f.type.value}",
                field=f"{at}.aggregate",
            )
        value = low = high = None
        if claim.op is ClaimOp.range:
            for name in ("low", "high"):
                if getattr(claim, name) is None:
                    raise InvalidClaim(
                        f"{at}.{name}: op 'range' needs both low and high", field=f"{at}.{name}"
                    )
            if claim.value is not None:
                raise InvalidClaim(
                    f"{at}.value: op 'range' takes low and high, not value", field=f"{at}.value"
                )
            low = _typed(f, claim.low, f"{at}.low")
            high = _typed(f, claim.high, f"{at}.high")
            if low is not None and high is not None and low > high:  # type: ignore[operator]
                raise InvalidClaim(f"{at}.low: low is greater than high", field=f"{at}.low")
        else:
            if claim.value is None:
                raise InvalidClaim(
                    f"{at}.value: op {claim.op.value!r} needs a value", field=f"{at}.value"
                )
            for name in ("low", "high"):
                if getattr(claim, name) is not None:
                    raise InvalidClaim(
                        f"{at}.{name}: op {claim.op.value!r} takes value, not {name}",
                        field=f"{at}.{name}",
                    )
            value = _typed(f, claim.value, f"{at}.value")
        prepared.append(PreparedClaim(n, claim, f, value, low, high))
    return prepared


def prepare_where(item: Item, where: Mapping[str, Scalar]) -> dict[str, Comparable]:
    """The record filter, typed; errors name the input (``where.tax_type``)."""
    out: dict[str, Comparable] = {}
    for name, raw in where.items():
        f = _field(item, name, f"where.{name}")
        value = _typed(f, raw, f"where.{name}")
        if value is None:
            raise InvalidClaim(f"where.{name}: needs a value", field=f"where.{name}")
        out[name] = value
    return out


def check_date_range(date_from: date | None, date_to: date | None) -> None:
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidClaim("date_from is after date_to", field="date_from")


def _in_window(
    item: Item, row: Mapping[str, Any], date_from: date | None, date_to: date | None
) -> bool:
    if item.event_date_field is None or (date_from is None and date_to is None):
        return True
    f = item.field(item.event_date_field)
    try:
        when = coerce(f, row.get(f.name))
    except (ValueError, TypeError):
        return False
    if when is None:
        return False
    if f.type is FieldType.month:
        month = str(when)
        return (date_from is None or month >= date_from.isoformat()[:7]) and (
            date_to is None or month <= date_to.isoformat()[:7]
        )
    assert isinstance(when, date)  # noqa: S101 - coerce returns a date for date fields
    return (date_from is None or when >= date_from) and (date_to is None or when <= date_to)


def select_rows(
    item: Item,
    rows: Iterable[Mapping[str, Any]],
    *,
    where: Mapping[str, Comparable] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[Mapping[str, Any]]:
    """The rows inside the data date range (by the item's event date) that match ``where``."""
    chosen = []
    for row in rows:
        if not _in_window(item, row, date_from, date_to):
            continue
        if where and not all(
            _equal(item.field(name), _safe(item.field(name), row.get(name)), want)
            for name, want in where.items()
        ):
            continue
        chosen.append(row)
    return chosen


def _safe(f: FieldDef, raw: Any) -> Comparable | None:
    try:
        return coerce(f, raw)
    except (ValueError, TypeError):
        return None


def _equal(f: FieldDef, have: Comparable | None, want: Comparable | None) -> bool:
    if have is None or want is None:
        return False
    if f.type in NUMERIC:
        return math.isclose(float(have), float(want), rel_tol=1e-9, abs_tol=TOLERANCE)  # type: ignore[arg-type]
    return have == want


def _holds(p: PreparedClaim, have: Comparable) -> bool:
    f, op = p.field, p.claim.op
    if op is ClaimOp.eq:
        return _equal(f, have, p.value)
    lower = p.low if op is ClaimOp.range else p.value if op is ClaimOp.gte else None
    upper = p.high if op is ClaimOp.range else p.value if op is ClaimOp.lte else None
    if lower is not None and have < lower and not _equal(f, have, lower):  # type: ignore[operator]
        return False
    return not (upper is not None and have > upper and not _equal(f, have, upper))  # type: ignore[operator]


def _latest(item: Item, rows: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    if item.event_date_field is None:
        return rows[-1]
    f = item.field(item.event_date_field)
    dated = [(str(_safe(f, r.get(f.name)) or ""), n) for n, r in enumerate(rows)]
    return rows[max(dated)[1]]


def evaluate(
    item: Item, claims: Sequence[PreparedClaim], rows: Sequence[Mapping[str, Any]]
) -> list[ClaimResult]:
    """The outcome of every claim over the selected ``rows`` (never a value)."""
    results = []
    for p in claims:
        outcome = _outcome(item, p, rows)
        results.append(
            ClaimResult(
                index=p.index,
                field=p.field.name,
                op=p.claim.op,
                aggregate=p.claim.aggregate,
                outcome=outcome,
            )
        )
    return results


def _outcome(item: Item, p: PreparedClaim, rows: Sequence[Mapping[str, Any]]) -> ClaimOutcome:
    yes, no = (
        (ClaimOutcome.match, ClaimOutcome.no_match)
        if p.claim.op is ClaimOp.eq
        else (ClaimOutcome.in_range, ClaimOutcome.out_of_range)
    )
    if not rows:
        return ClaimOutcome.no_data
    aggregate = p.claim.aggregate
    if aggregate is ClaimAggregate.latest:
        rows = [_latest(item, rows)]
    values = [v for v in (_safe(p.field, r.get(p.field.name)) for r in rows) if v is not None]
    if not values:
        return ClaimOutcome.no_data
    if aggregate is ClaimAggregate.sum:
        total = math.fsum(float(v) for v in values)  # type: ignore[arg-type]
        return yes if _holds(p, total) else no
    checks = [_holds(p, v) for v in values]
    held = all(checks) if aggregate is ClaimAggregate.all else any(checks)
    return yes if held else no
