"""The rating pages: an entity's portrait (/entities/{uscc}/rating) for those the access policy
lets see it, each view and each refusal in the access log; the runs (/ratings/runs) for staff.

The ratings come from real batch runs (rongxin.rating.batch.run_rating) over entities and
records made here: a firm rated once, then listed as a dishonest debtor and rated again (its
grade falls under the veto's cap: a grade change)."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from console_helpers import BANK, Login
from entity_factories import create_entity, make_uscc
from fastapi.testclient import TestClient
from rating_factories import dishonest, penalty, rate
from sqlalchemy.orm import Session

from rongxin.audit import service as audit_service
from rongxin.config import Settings
from rongxin.rating import service as rating_service
from rongxin.rating.indicators import load_system
from rongxin.rating.schemas import RatingPortrait, RatingRunRead

FIRST = date(2026, 6, 30)
SECOND = date(2026, 9, 30)
FIRM_NAME = "福州市仓山区榕信评价测试有限公司"


@dataclass(frozen=True)
class Rated:
    firm: str  # rated twice, its grade changed (vetoed in the second run)
    peer: str  # rated twice, no change
    unrated: str  # registered after the runs: no rating yet
    runs: tuple[RatingRunRead, RatingRunRead]
    portrait: RatingPortrait  # the firm's, as the service computes it


@pytest.fixture
def rated(session: Session, settings: Settings) -> Rated:
    firm = make_uscc(region="350104", seed=8101)
    peer = make_uscc(region="350104", seed=8102)
    create_entity(
        session, uscc=firm, name=FIRM_NAME, size_class="micro", establish_date=date(2024, 1, 1)
    )
    create_entity(session, uscc=peer, name="福州市仓山区同业测试有限公司", size_class="micro")
    penalty(session, firm, "2026-05-01", severity="严重")
    first = rate(session, settings, as_of=FIRST)
    dishonest(session, firm, removed=None, published="2026-07-01")
    second = rate(session, settings, as_of=SECOND)
    unrated = make_uscc(region="350104", seed=8103)
    create_entity(session, uscc=unrated, name="福州市仓山区新设测试有限公司")
    session.flush()
    return Rated(
        firm=firm,
        peer=peer,
        unrated=unrated,
        runs=(RatingRunRead.model_validate(first), RatingRunRead.model_validate(second)),
        portrait=rating_service.portrait(session, uscc=firm),
    )


def _num(value: float, places: int = 1) -> str:
    """A figure as the pages print it (rating/_macros.html num)."""
    return f"{int(value):,}" if value == round(value) else f"{value:,.{places}f}"


def _views(session: Session, uscc: str, actor: str) -> list[tuple[str, str, str | None]]:
    entries = audit_service.entries(session, uscc=uscc, actor_code=actor, action="rating.view")
    return [(e.action, e.outcome, e.purpose) for e in entries.items]


def _chart_data(page: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="rating-chart-data">(.*?)</script>', page, re.S
    )
    assert found, "no chart data on the page"
    data: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return data


# ---- the portrait -------------------------------------------------------------------------------


def test_the_portrait_shows_the_rating_a_run_computed(login: Login, rated: Rated) -> None:
    found = rated.portrait
    assert found.veto is not None
    assert found.veto.code == "dishonest_debtor"
    response = login("institution", BANK).get(f"/entities/{rated.firm}/rating")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert f"<h1>{FIRM_NAME}</h1>" in page
    assert f'<strong class="rating-score__value">{_num(found.score)}</strong>' in page
    assert f'<span class="grade-badge">{found.grade}</span>' in page
    assert found.grade_name
    assert found.grade_name in page
    assert "数据厚度" in page
    assert f"依据 {found.data_sources} 个数据来源" in page
    # the veto banner names the veto and the cap
    assert "否决项" in page
    assert f"存在“{found.veto.name}”情形" in page
    assert f"信用等级最高为 {found.veto.cap_grade}" in page
    # percentile among peers: province, industry section and size class by name
    assert f"高于同组 {_num(found.peers.percentile)}% 的主体" in page
    assert "福建省" in page
    assert "微型" in page
    # the sheet: every indicator of every dimension, with points out of the maximum
    assert found.dimensions
    for dim in found.dimensions:
        assert dim.name in page
        for line in dim.indicators:
            assert f">{html.escape(line.name)}</th>" in page
    severe = next(
        i for d in found.dimensions for i in d.indicators if i.code == "severe_penalties_3y"
    )
    assert severe.points < severe.max_points
    assert f"{severe.points} / {severe.max_points}" in page
    assert f"−{_num(severe.lost, 2)}</td>" in page
    # improvements: lifting the veto first, then the indicators that lost most, with advice
    assert [i.kind for i in found.improvements][:1] == ["veto"]
    assert len(found.improvements) == 3
    for imp in found.improvements:
        assert html.escape(imp.advice) in page
    gain = next(i for i in found.improvements if i.kind == "indicator")
    assert f"最多可提升 {_num(gain.gain)} 分" in page
    # the main reasons by indicator name
    lines = {i.code: i.name for d in found.dimensions for i in d.indicators}
    assert found.reasons
    assert f"<li>{html.escape(lines[found.reasons[0]])}</li>" in page


def test_the_history_chart_carries_every_run(login: Login, rated: Rated) -> None:
    page = login("operator", "ops").get(f"/entities/{rated.firm}/rating").text
    assert 'id="rating-history"' in page
    assert "data-chart" in page
    assert "js/rating-chart.js" in page
    assert "vendor/echarts.min.js" in page
    data = _chart_data(page)
    chart = data["charts"][0]
    assert chart["id"] == "rating-history"
    assert chart["categories"] == ["2026年6月30日", "2026年9月30日"]
    assert chart["series"][0]["data"] == [p.score for p in rated.portrait.history]
    grades = chart["series"][0]["labels"]
    assert grades[-1] == rated.portrait.grade
    assert grades[0] != grades[-1]  # the veto changed the grade
    assert "<script>" not in page  # no inline script: the CSP forbids it


def test_each_institution_view_is_logged(login: Login, session: Session, rated: Rated) -> None:
    client = login("institution", BANK)
    assert client.get(f"/entities/{rated.firm}/rating").status_code == 200
    page = client.get(f"/entities/{rated.firm}/rating", params={"purpose": "post_loan"}).text
    assert '<option value="post_loan" selected>' in page  # the purpose form keeps the choice
    assert _views(session, rated.firm, BANK) == [
        ("rating.view", "allowed", "post_loan"),
        ("rating.view", "allowed", "pre_loan"),  # the default purpose
    ]


def test_the_enterprise_sees_its_own_rating(login: Login, session: Session, rated: Rated) -> None:
    response = login("enterprise", rated.firm).get(f"/entities/{rated.firm}/rating")
    assert response.status_code == 200
    assert "本企业查询" in response.text
    assert 'id="rating-purpose"' not in response.text  # one purpose only: no form
    assert _views(session, rated.firm, rated.firm) == [("rating.view", "allowed", "self_query")]


def test_the_enterprise_is_refused_another_rating(
    login: Login, session: Session, rated: Rated
) -> None:
    response = login("enterprise", rated.firm).get(f"/entities/{rated.peer}/rating")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "无权查看该信用评价" in response.text
    assert "its own rating only" in response.text  # the policy's reason
    assert "Traceback" not in response.text
    assert _views(session, rated.peer, rated.firm) == [("rating.view", "denied", "self_query")]


@pytest.mark.parametrize(
    ("kind", "code", "purpose"),
    [
        ("institution", BANK, "supervision"),
        ("provider", "samr", None),
        ("regulator", "pbc", "pre_loan"),
    ],
)
def test_a_refused_view_is_a_logged_403_page(
    login: Login, session: Session, rated: Rated, kind: str, code: str, purpose: str | None
) -> None:
    params = {"purpose": purpose} if purpose else {}
    response = login(kind, code).get(f"/entities/{rated.firm}/rating", params=params)
    assert response.status_code == 403
    assert "本次拒绝已记入访问日志" in response.text
    assert "may not see ratings" in response.text
    assert str(rated.portrait.score) not in response.text
    assert [(a, o) for a, o, _ in _views(session, rated.firm, code)] == [("rating.view", "denied")]


def test_anonymous_visitors_are_sent_to_sign_in(secure_client: TestClient, rated: Rated) -> None:
    response = secure_client.get(f"/entities/{rated.firm}/rating", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/signin?next=/entities/{rated.firm}/rating"


def test_an_entity_not_rated_yet_gets_a_404_page(
    login: Login, session: Session, rated: Rated
) -> None:
    response = login("institution", BANK).get(f"/entities/{rated.unrated}/rating")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "尚无信用评价" in response.text
    assert "福州市仓山区新设测试有限公司尚无信用评价。" in response.text
    assert "rongxin rating run" in response.text  # what makes a rating
    assert f'href="/entities/{rated.unrated}"' in response.text
    assert _views(session, rated.unrated, BANK) == []  # nothing was shown


def test_an_unknown_purpose_names_the_field(login: Login, rated: Rated) -> None:
    response = login("institution", BANK).get(
        f"/entities/{rated.firm}/rating", params={"purpose": "marketing"}
    )
    assert response.status_code == 422
    assert "purpose" in response.text


def test_the_english_page_has_english_labels(login: Login, rated: Rated) -> None:
    found = rated.portrait
    page = login("operator", "ops").get(f"/entities/{rated.firm}/rating?lang=en").text
    assert '<html lang="en">' in page
    for label in ("Credit score", "Grade", "Data depth", "Indicator sheet", "Score history"):
        assert label in page
    assert "What would raise the rating" in page
    assert f"Rated higher than {_num(found.peers.percentile)}% of its peers" in page
    assert found.veto is not None
    assert html.escape(found.veto.name_en) in page
    for dim in found.dimensions:
        assert html.escape(dim.name_en) in page
    assert html.escape(found.improvements[-1].advice_en) in page
    assert "指标明细" not in page
    assert "如何提升信用评价" not in page
    data = _chart_data(page)
    assert data["charts"][0]["categories"] == ["2026-06-30", "2026-09-30"]


def test_the_entity_page_and_the_console_link_to_the_portrait(login: Login, rated: Rated) -> None:
    client = login("institution", BANK)
    entity = client.get(f"/entities/{rated.firm}").text
    assert f'href="/entities/{rated.firm}/rating"' in entity
    results = client.get("/console", params={"q": rated.firm}).text
    assert f'href="/entities/{rated.firm}/rating?purpose=pre_loan"' in results


# ---- the runs -----------------------------------------------------------------------------------


def test_the_runs_page_lists_runs_for_staff(login: Login, rated: Rated) -> None:
    first, second = rated.runs
    response = login("operator", "ops").get("/ratings/runs")
    assert response.status_code == 200
    page = response.text
    assert "<h1>全覆盖信用评价批次</h1>" in page
    assert page.index(f'href="/ratings/runs/{second.id}"') < page.index(
        f'href="/ratings/runs/{first.id}"'
    )  # newest first
    assert "2026年9月30日" in page
    assert "duckdb" in page
    assert f"{first.system_code} <span" in page
    # the grade distribution bars: one rect per grade present, with its count
    for grade, count in (second.grade_counts or {}).items():
        assert f"<title>{grade}: {count}</title>" in page
    assert second.changed_count == 1
    data = _chart_data(page)
    chart = data["charts"][0]
    assert chart["kind"] == "stacked"
    assert chart["categories"] == ["2026年6月30日", "2026年9月30日"]  # oldest first
    totals = [sum(s["data"][i] for s in chart["series"]) for i in range(2)]
    assert totals == [first.entity_count, second.entity_count]
    grades = [g.grade for g in load_system().grades]
    names = [s["name"] for s in chart["series"]]
    assert names == sorted(names, key=grades.index)  # best grade first


def test_a_run_shows_its_grades_and_changes(login: Login, rated: Rated) -> None:
    first, second = rated.runs
    client = login("regulator", "pbc")
    page = client.get(f"/ratings/runs/{second.id}").text
    found = rated.portrait
    assert f'href="/entities/{rated.firm}/rating"' in page  # the changed entity, linked
    assert rated.peer not in page  # unchanged
    assert f'href="/ratings/runs/{first.id}"' in page  # the previous run
    before = found.history[0]
    assert f'{before.grade} <span class="meta">({_num(before.score)})</span>' in page
    assert f'{found.grade} <span class="meta">({_num(found.score)})</span>' in page
    for grade, count in (second.grade_counts or {}).items():
        assert f'<th scope="row">{grade}</th>' in page
        assert f'<td class="num">{count:,}</td>' in page
    first_page = client.get(f"/ratings/runs/{first.id}").text
    assert "这是首个评价批次" in first_page


def test_runs_are_for_staff_only(login: Login, rated: Rated) -> None:
    response = login("institution", BANK).get("/ratings/runs")
    assert response.status_code == 403
    assert "平台运营方" in response.text


def test_an_unknown_run_is_a_404_page(login: Login, rated: Rated) -> None:
    response = login("operator", "ops").get("/ratings/runs/no-such-run")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "no-such-run" in response.text


def test_no_runs_yet(login: Login) -> None:
    page = login("operator", "ops").get("/ratings/runs?lang=en").text
    assert "No rating run yet" in page
    assert "rating-chart-data" not in page
