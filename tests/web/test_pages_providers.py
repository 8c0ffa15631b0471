"""Delivery history and data-quality pages: who sees what, and what they show."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from web_helpers import bad_copy, ingest

from rongxin.catalog.schemas import Catalog
from rongxin.ingest.schemas import BatchResult, BatchStatus

CHART_JSON = re.compile(
    r'<script type="application/json" id="quality-trend-data">(.*?)</script>', re.S
)


class Deliveries:
    def __init__(self, committed: BatchResult, rejected: BatchResult, duplicate: BatchResult):
        self.committed = committed
        self.rejected = rejected
        self.duplicate = duplicate


@pytest.fixture
def deliveries(
    session: Session, web_catalog: Catalog, web_package: Path, tmp_path: Path
) -> Deliveries:
    """samr registration; spc court judgments: committed, then rejected, then a duplicate."""
    ingest(session, web_catalog, web_package / "samr/registration.csv", "samr", "registration")
    judgments = web_package / "spc/court_judgment.csv"
    committed = ingest(session, web_catalog, judgments, "spc", "court_judgment")
    bad = bad_copy(judgments, tmp_path / "court_judgment.csv", field="uscc", value="91XXBAD", row=2)
    rejected = ingest(session, web_catalog, bad, "spc", "court_judgment")
    duplicate = ingest(session, web_catalog, judgments, "spc", "court_judgment")
    assert committed.status is BatchStatus.committed
    assert rejected.status is BatchStatus.rejected
    assert duplicate.status is BatchStatus.duplicate
    return Deliveries(committed, rejected, duplicate)


def deliveries_dir(deliveries: Deliveries) -> Path:
    return Path(deliveries.rejected.source_name).parent


# ---- navigation ---------------------------------------------------------------------------------


def test_nav_links_depend_on_the_signed_in_kind(
    secure_client: TestClient, signed_in: Callable[..., TestClient]
) -> None:
    anonymous = secure_client.get("/").text
    assert 'href="/quality"' not in anonymous
    assert "/batches" not in anonymous
    provider = signed_in("provider", "spc").get("/").text
    assert 'href="/providers/spc/batches"' in provider
    assert "报送记录" in provider
    assert 'href="/quality"' not in provider
    assert "最高人民法院" in provider  # the provider's catalog name in the header
    secure_client.cookies.clear()
    operator = signed_in("operator", "ops").get("/").text
    assert 'href="/quality"' in operator
    assert ">数据质量<" in operator
    assert "/batches" not in operator


# ---- delivery history ---------------------------------------------------------------------------


def test_provider_sees_its_own_batches(
    signed_in: Callable[..., TestClient], deliveries: Deliveries
) -> None:
    client = signed_in("provider", "spc")
    r = client.get("/providers/spc/batches")
    assert r.status_code == 200
    html = r.text
    assert '<html lang="zh-CN">' in html
    assert "最高人民法院的报送记录" in html
    for badge in ("已入库", "已拒收", "重复报送"):
        assert badge in html
    assert "共 3 个批次" in html
    assert 'aria-current="page"' in html  # the nav entry
    for batch in (deliveries.committed, deliveries.rejected, deliveries.duplicate):
        assert f"/providers/spc/batches/{batch.id}" in html
    # newest first: the duplicate was delivered last
    assert html.index(deliveries.duplicate.id) < html.index(deliveries.committed.id)
    assert f">{deliveries.committed.inserted:,}<" in html
    assert "100.0%" in html  # validity of the committed batch
    assert r.headers["cache-control"] == "no-store"


def test_provider_cannot_see_another_provider(
    signed_in: Callable[..., TestClient], deliveries: Deliveries
) -> None:
    client = signed_in("provider", "samr")
    for path in (
        "/providers/spc/batches",
        f"/providers/spc/batches/{deliveries.committed.id}",
        f"/providers/samr/batches/{deliveries.committed.id}",  # spc's batch under its own code
        "/providers/nosuch/batches",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert '<html lang="zh-CN">' in r.text
        assert "最高人民法院" not in r.text.split("</header>", 1)[1]
    own = client.get("/providers/samr/batches")
    assert own.status_code == 200
    assert "已入库" in own.text
    assert client.get("/quality").status_code == 403


def test_status_filter_and_pagination(
    signed_in: Callable[..., TestClient], deliveries: Deliveries
) -> None:
    client = signed_in("operator", "ops")
    rejected = client.get("/providers/spc/batches?status=rejected").text
    assert "共 1 个批次" in rejected
    assert deliveries.rejected.id in rejected
    assert deliveries.committed.id not in rejected
    first = client.get("/providers/spc/batches?limit=1").text
    assert "第 1–1 条，共 3 条" in first
    assert 'rel="next" href="/providers/spc/batches?limit=1&amp;offset=1"' in first
    second = client.get("/providers/spc/batches?limit=1&offset=1").text
    assert 'rel="prev"' in second
    bad = client.get("/providers/spc/batches?status=lost")
    assert bad.status_code == 422
    assert '<html lang="zh-CN">' in bad.text


def test_operator_and_regulator_see_any_provider(
    signed_in: Callable[..., TestClient], secure_client: TestClient, deliveries: Deliveries
) -> None:
    for kind in ("operator", "regulator"):
        secure_client.cookies.clear()
        client = signed_in(kind, f"{kind}-1")
        assert client.get("/providers/spc/batches").status_code == 200
        assert client.get("/providers/samr/batches").status_code == 200
        batch = client.get(f"/providers/spc/batches/{deliveries.rejected.id}")
        assert batch.status_code == 200


def test_rejected_batch_lists_its_problems(
    signed_in: Callable[..., TestClient], deliveries: Deliveries
) -> None:
    client = signed_in("provider", "spc")
    r = client.get(f"/providers/spc/batches/{deliveries.rejected.id}")
    assert r.status_code == 200
    html = r.text
    assert "已拒收" in html
    assert "未写入任何数据" in html
    assert "问题清单" in html
    problem = deliveries.rejected.problems[0]
    assert problem.field == "uscc"
    table = html.split('class="data-table data-table--stack problem-table"', 1)[1]
    assert f'data-label="行号">{problem.line}<' in table
    assert "<code>uscc</code>" in table
    assert "<code>91XXBAD</code>" in table
    assert "court_judgment.csv" in table
    assert str(deliveries_dir(deliveries)) not in table  # no server directories shown
    assert "本批次数据质量" in html


def test_committed_and_duplicate_batches(
    signed_in: Callable[..., TestClient], deliveries: Deliveries
) -> None:
    client = signed_in("provider", "spc")
    ok = client.get(f"/providers/spc/batches/{deliveries.committed.id}").text
    assert "已入库" in ok
    assert "问题清单" not in ok
    assert "完整性" in ok
    assert deliveries.committed.checksum in ok
    dup = client.get(f"/providers/spc/batches/{deliveries.duplicate.id}").text
    assert "重复报送" in dup
    assert f"/providers/spc/batches/{deliveries.committed.id}" in dup
    assert "未测量质量" in dup
    assert client.get("/providers/spc/batches/nosuch").status_code == 404


def test_batch_pages_in_english(
    signed_in: Callable[..., TestClient], deliveries: Deliveries
) -> None:
    client = signed_in("provider", "spc")
    listing = client.get("/providers/spc/batches?lang=en").text
    assert '<html lang="en">' in listing
    assert "Deliveries of Supreme People&#39;s Court" in listing
    for badge in ("Stored", "Rejected", "Duplicate"):
        assert badge in listing
    batch = client.get(f"/providers/spc/batches/{deliveries.rejected.id}").text
    assert '<html lang="en">' in batch
    assert "Problems" in batch
    assert ">Line<" in batch


# ---- quality ------------------------------------------------------------------------------------


def chart_data(html: str) -> dict[str, object]:
    found = CHART_JSON.search(html)
    assert found, "no chart data block"
    data: dict[str, object] = json.loads(found.group(1))
    return data


def test_quality_page_for_operators(
    signed_in: Callable[..., TestClient], deliveries: Deliveries
) -> None:
    client = signed_in("operator", "ops")
    r = client.get("/quality")
    assert r.status_code == 200
    html = r.text
    assert '<html lang="zh-CN">' in html
    assert "数据质量监测" in html
    assert "/static/vendor/echarts.min.js" in html
    assert "/static/js/quality-chart.js" in html
    assert "最高人民法院" in html
    assert "市场监管总局" in html
    # the first provider in the report (samr) is selected; its registration trend is drawn
    data = chart_data(html)
    charts = data["charts"]
    assert isinstance(charts, list)
    assert [c["id"] for c in charts] == ["trend-registration"]
    assert data["labels"]["completeness"] == "完整性"  # type: ignore[index]
    assert 'id="trend-registration"' in html
    assert 'role="img"' in html
    assert "trend-table" in html  # the data table beside the chart

    spc = client.get("/quality?provider=spc").text
    charts = chart_data(spc)["charts"]
    assert isinstance(charts, list)
    (judgments,) = charts
    assert judgments["title"] == "裁判文书"
    points = judgments["points"]
    # committed and rejected batches were measured (the duplicate was not), oldest first
    assert [p["batch"] for p in points] == [deliveries.committed.id, deliveries.rejected.id]
    assert points[0]["validity"] == 100.0
    assert points[1]["validity"] < 100.0
    assert 0 <= points[0]["completeness"] <= 100
    assert "</script>" not in CHART_JSON.search(spc).group(1)  # type: ignore[union-attr]
    assert client.get("/quality?provider=nosuch").status_code == 404


def test_quality_page_in_english_and_for_regulators(
    signed_in: Callable[..., TestClient], deliveries: Deliveries
) -> None:
    client = signed_in("regulator", "nfra-sup")
    r = client.get("/quality?lang=en")
    assert r.status_code == 200
    assert '<html lang="en">' in r.text
    assert "Data quality monitoring" in r.text
    assert chart_data(r.text)["labels"]["validity"] == "Validity"  # type: ignore[index]


def test_quality_page_without_deliveries(signed_in: Callable[..., TestClient]) -> None:
    r = signed_in("operator", "ops").get("/quality")
    assert r.status_code == 200
    assert "尚无报送批次" in r.text
    assert "quality-trend-data" not in r.text


def test_chart_script_and_echarts_are_served(client: TestClient) -> None:
    echarts = client.get("/static/vendor/echarts.min.js")
    assert echarts.status_code == 200
    assert "Apache Software Foundation" in echarts.text[:400]
    chart = client.get("/static/js/quality-chart.js")
    assert chart.status_code == 200
    assert "quality-trend-data" in chart.text
