"""Claim rules (pure): typing, validation naming the input, selection and outcomes."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from provider_factories import FIRM_A

from rongxin.catalog.schemas import Catalog
from rongxin.providers import claims
from rongxin.providers.errors import InvalidClaim
from rongxin.providers.schemas import Claim, ClaimOutcome

ROWS: list[dict[str, Any]] = [
    {"uscc": FIRM_A, "period": "2025-01", "tax_type": "增值税", "tax_paid": "100.10",
     "declared_on_time": "是"},
    {"uscc": FIRM_A, "period": "2025-02", "tax_type": "增值税", "tax_paid": 200.2,
     "declared_on_time": True},
    {"uscc": FIRM_A, "period": "2025-03", "tax_type": "企业所得税", "tax_paid": None,
     "declared_on_time": "false"},
]  # fmt: skip


def _run(catalog: Catalog, item_code: str, raw: list[dict[str, Any]], rows: list[dict[str, Any]],
         **select: Any) -> list[str]:  # fmt: skip
    item = catalog.item(item_code)
    prepared = claims.prepare_claims(item, [Claim.model_validate(c) for c in raw])
    chosen = claims.select_rows(item, rows, **select)
    return [r.outcome.value for r in claims.evaluate(item, prepared, chosen)]


def test_outcomes_over_several_records(catalog: Catalog) -> None:
    raw = [
        {"field": "tax_paid", "op": "eq", "value": "200.20"},
        {"field": "tax_paid", "op": "range", "low": 300, "high": 300.3, "aggregate": "sum"},
        {"field": "tax_paid", "op": "gte", "value": 150, "aggregate": "all"},
        {"field": "tax_paid", "op": "lte", "value": 150, "aggregate": "latest"},
        {"field": "declared_on_time", "op": "eq", "value": "true", "aggregate": "all"},
        {"field": "period", "op": "range", "low": "2025-02", "high": "2025-12"},
    ]
    assert _run(catalog, "tax_payment", raw, ROWS) == [
        "match",
        "in_range",  # 100.10 + 200.2 (the null is skipped)
        "out_of_range",
        "no_data",  # the latest record (2025-03) has no tax_paid
        "no_match",
        "in_range",
    ]


def test_bounds_are_inclusive_and_sums_tolerate_float_error(catalog: Catalog) -> None:
    rows = [{"uscc": FIRM_A, "period": f"2025-{m:02d}", "tax_type": "增值税", "tax_paid": 0.1,
             "declared_on_time": True} for m in range(1, 4)]  # fmt: skip
    raw = [
        {"field": "tax_paid", "op": "eq", "value": 0.3, "aggregate": "sum"},
        {"field": "tax_paid", "op": "range", "low": 0.3, "high": 0.3, "aggregate": "sum"},
        {"field": "tax_paid", "op": "gte", "value": 0.3001, "aggregate": "sum"},
    ]
    assert _run(catalog, "tax_payment", raw, rows) == ["match", "in_range", "out_of_range"]


def test_the_date_range_selects_by_the_event_date(catalog: Catalog) -> None:
    raw = [{"field": "tax_paid", "op": "gte", "value": 0, "aggregate": "all"}]
    assert _run(catalog, "tax_payment", raw, ROWS, date_from=date(2025, 2, 15)) == ["in_range"]
    assert _run(catalog, "tax_payment", raw, ROWS, date_to=date(2024, 12, 31)) == ["no_data"]
    rating = [{"uscc": FIRM_A, "rating_year": 2024, "grade": "A", "rated_date": "2025-04-20"}]
    grade = [{"field": "grade", "op": "eq", "value": "A"}]
    assert _run(catalog, "tax_credit_rating", grade, rating, date_from=date(2025, 4, 20)) == [
        "match"
    ]
    assert _run(catalog, "tax_credit_rating", grade, rating, date_from=date(2025, 4, 21)) == [
        "no_data"
    ]


def test_where_filters_typed(catalog: Catalog) -> None:
    item = catalog.item("tax_payment")
    where = claims.prepare_where(item, {"tax_type": "企业所得税", "declared_on_time": "否"})
    assert where == {"tax_type": "企业所得税", "declared_on_time": False}
    assert claims.select_rows(item, ROWS, where=where) == [ROWS[2]]


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"field": "nope", "op": "eq", "value": 1}, "claims[0].field", "has no field 'nope'"),
        ({"field": "uscc", "op": "eq", "value": FIRM_A}, "claims[0].field", "cannot be verified"),
        ({"field": "tax_type", "op": "range", "low": "a", "high": "b"}, "claims[0].op", "use eq"),
        ({"field": "tax_paid", "op": "range", "high": 2}, "claims[0].low", "both low and high"),
        ({"field": "tax_paid", "op": "range", "low": 3, "high": 2}, "claims[0].low", "greater"),
        ({"field": "tax_paid", "op": "range", "low": 1, "high": 2, "value": 1}, "claims[0].value",
         "not value"),
        ({"field": "tax_paid", "op": "gte"}, "claims[0].value", "needs a value"),
        ({"field": "tax_paid", "op": "gte", "value": 1, "low": 0}, "claims[0].low", "not low"),
        ({"field": "tax_paid", "op": "eq", "value": True}, "claims[0].value", "not true/false"),
        ({"field": "period", "op": "eq", "value": "2025-13"}, "claims[0].value", "month"),
        ({"field": "declared_on_time", "op": "eq", "value": "maybe"}, "claims[0].value",
         "true or false"),
        ({"field": "tax_type", "op": "eq", "value": "增值税", "aggregate": "sum"},
         "claims[0].aggregate", "sum needs a number"),
    ],
)  # fmt: skip
def test_bad_claims_name_the_input(
    catalog: Catalog, raw: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(InvalidClaim) as caught:
        claims.prepare_claims(catalog.item("tax_payment"), [Claim.model_validate(raw)])
    assert caught.value.details["field"] == field
    assert words in caught.value.message
    assert caught.value.status == 422


def test_bad_where_and_dates_name_the_input(catalog: Catalog) -> None:
    item = catalog.item("tax_payment")
    with pytest.raises(InvalidClaim) as caught:
        claims.prepare_where(item, {"tax_type": "营业税"})
    assert caught.value.details["field"] == "where.tax_type"
    with pytest.raises(InvalidClaim) as caught:
        claims.prepare_where(item, {"colour": "red"})
    assert caught.value.details["field"] == "where.colour"
    with pytest.raises(InvalidClaim) as caught:
        claims.check_date_range(date(2025, 2, 1), date(2025, 1, 1))
    assert caught.value.details["field"] == "date_from"


def test_the_second_claim_is_named_by_its_position(catalog: Catalog) -> None:
    raw = [{"field": "tax_paid", "op": "eq", "value": 1}, {"field": "x", "op": "eq", "value": 1}]
    with pytest.raises(InvalidClaim) as caught:
        claims.prepare_claims(catalog.item("tax_payment"), [Claim.model_validate(c) for c in raw])
    assert caught.value.details["field"] == "claims[1].field"


def test_no_records_is_no_data(catalog: Catalog) -> None:
    raw = [{"field": "grade", "op": "eq", "value": "A"}]
    assert _run(catalog, "tax_credit_rating", raw, []) == [ClaimOutcome.no_data.value]
