"""Regions (GB/T 2260), industries (GB/T 4754-2017) and SME size classes (2011 rule)."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import polars as pl
import pytest

from rongxin.entities import reference, service

AS_OF = date(2024, 1, 1)


def test_regions() -> None:
    gulou = reference.region("350102")
    assert gulou is not None
    assert gulou.full_name == "福建省福州市鼓楼区"
    assert gulou.level == "county"
    assert gulou.province_code == "350000"
    fuzhou = reference.region("350100")
    assert fuzhou is not None
    assert (fuzhou.level, fuzhou.full_name) == ("city", "福建省福州市")
    assert len(reference.regions()) > 3000
    assert reference.region("999999") is None
    assert all(r.level in {"county", "city"} for r in reference.county_regions())


def test_industries() -> None:
    software = reference.industries()["65"]
    assert (software.section, software.section_name) == ("I", "信息传输、软件和信息技术服务业")
    assert reference.industry_sections()["C"] == "制造业"
    assert len(reference.industry_sections()) == 20


def _size(
    industry: str, employees: float | None, revenue: float | None, assets: float | None = None
) -> str:
    size, rule = reference.classify_size(
        industry_code=industry, employees=employees, revenue=revenue, assets=assets, as_of=AS_OF
    )
    assert rule == "gxb-2011-300"
    return size


@pytest.mark.parametrize(
    ("industry", "employees", "revenue", "assets", "expected"),
    [
        # 工业 (制造业 division 39)
        ("3911", 20, 300, None, "small"),
        ("3911", 19, 300, None, "micro"),
        ("3911", 20, 299.99, None, "micro"),
        ("3911", 300, 2000, None, "medium"),
        ("3911", 299, 2000, None, "small"),
        ("3911", 1000, 40000, None, "large"),
        ("3911", 1000, 39999, None, "medium"),
        ("3911", 5000, 1999, None, "small"),
        # 零售业
        ("5211", 10, 100, None, "small"),
        ("5211", 9, 100, None, "micro"),
        ("5211", 50, 500, None, "medium"),
        ("5211", 300, 20000, None, "large"),
        ("5211", 299, 20000, None, "medium"),
        # 农、林、牧、渔业: revenue only
        ("0141", None, 50, None, "small"),
        ("0141", None, 49.9, None, "micro"),
        ("0141", 9999, 500, None, "medium"),
        ("0141", 0, 20000, None, "large"),
        # 其他未列明行业: employees only
        ("9411", 10, None, None, "small"),
        ("9411", 9, 1e6, None, "micro"),
        ("9411", 100, None, None, "medium"),
        ("9411", 300, None, None, "large"),
        # 房地产开发经营 (4-digit class wins over its division)
        ("7010", None, 1000, 5000, "medium"),
        ("7010", None, 1000, 4999, "small"),
        # missing indicators cannot meet a lower bound
        ("3911", None, 5000, None, "micro"),
    ],
)
def test_size_class_boundaries(
    industry: str,
    employees: float | None,
    revenue: float | None,
    assets: float | None,
    expected: str,
) -> None:
    assert _size(industry, employees, revenue, assets) == expected


def test_no_rule_in_force_before_2011() -> None:
    with pytest.raises(LookupError):
        reference.size_rule_set(date(2010, 1, 1))


def test_size_class_for_unknown_is_none() -> None:
    assert service.size_class_for(
        industry_code="3911", employees=None, revenue=None, total_assets=None, as_of=AS_OF
    ) == (None, None)
    assert service.size_class_for(
        industry_code="3911", employees=25, revenue=400, total_assets=None, as_of=AS_OF
    ) == ("small", "gxb-2011-300")


def test_vectorized_size_classes_agree_with_classify_size() -> None:
    rng = random.Random(11)
    codes = [*reference.industries(), "7010", "7020", "7090", "3911", "0141", "5211"]
    thresholds = [0, 5, 10, 20, 50, 100, 300, 500, 1000, 2000, 5000, 8000, 20000, 40000]
    rows: list[dict[str, Any]] = []
    for _ in range(5000):

        def value() -> float | None:
            return rng.choice(
                [None, rng.choice(thresholds), rng.choice(thresholds) - 1, rng.uniform(0, 1e5)]
            )

        employees = value()
        rows.append(
            {
                "industry_code": rng.choice(codes),
                "employees": None if employees is None else max(int(employees), 0),
                "revenue": value(),
                "total_assets": value(),
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "industry_code": pl.String,
            "employees": pl.Int64,
            "revenue": pl.Float64,
            "total_assets": pl.Float64,
        },
    )
    expr, rule_id = reference.size_class_expr(as_of=AS_OF)
    got = frame.select(expr.alias("size"))["size"].to_list()
    expected = [
        reference.classify_size(
            industry_code=r["industry_code"],
            employees=r["employees"],
            revenue=r["revenue"],
            assets=r["total_assets"],
            as_of=AS_OF,
        )[0]
        for r in rows
    ]
    assert rule_id == "gxb-2011-300"
    assert set(expected) == {"large", "medium", "small", "micro"}
    assert got == expected
