"""Full-coverage batch rating: features, the indicator system, vetoes, depth, peers, history and
changes, computed by hand for a small system and checked on DuckDB and Spark."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from entity_factories import create_entity, make_uscc
from rating_factories import dishonest, penalty, rate
from sqlalchemy import select
from sqlalchemy.orm import Session

from rongxin.access import policy
from rongxin.access.errors import Forbidden
from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.entities import service as entities_service
from rongxin.rating import batch, engines, service
from rongxin.rating.engines import Engine
from rongxin.rating.features import load_features
from rongxin.rating.indicators import IndicatorSystem, load_system, parse_system
from rongxin.rating.models import EntityRating, RatingChange

AS_OF = date(2026, 9, 30)

# Two dimensions, three indicators, one veto: small enough to score by hand.
SMALL_SYSTEM = """
code: test-small
version: "1"
effective_from: 2026-01-01
features_version: "2026.1"
name: 测试体系
name_en: Test system
grades:
  - {grade: A, min: 800, name: 好}
  - {grade: B, min: 500, name: 中}
  - {grade: C, min: 0, name: 差}
data_depth:
  - {level: thin, min_sources: 0, name: 薄, name_en: thin}
  - {level: deep, min_sources: 2, name: 厚, name_en: deep}
vetoes:
  - {code: dishonest, name: 失信, name_en: dishonest, feature: dishonest_open, at_least: 1,
     cap_grade: C}
dimensions:
  - code: law
    name: 守法
    name_en: law
    weight: 60
    indicators:
      - code: penalties_3y
        feature: penalties_3y
        method: count
        weight: 1
        bands: [{max: 0, points: 100}, {max: 1, points: 60}, {points: 0}]
        advice: 守法
        advice_en: obey
  - code: cap
    name: 能力
    name_en: capacity
    weight: 40
    indicators:
      - code: age_years
        feature: age_years
        method: band
        weight: 3
        missing_points: 20
        bands: [{max: 3, points: 50}, {points: 100}]
        advice: 经营
        advice_en: operate
      - code: size_class
        feature: size_class
        method: status
        weight: 1
        missing_points: 0
        other_points: 10
        statuses: {small: 80, micro: 40}
        advice: 做大
        advice_en: grow
"""


@pytest.fixture
def catalog() -> Catalog:
    return catalog_service.load_catalog()


@pytest.fixture
def small() -> IndicatorSystem:
    return parse_system(SMALL_SYSTEM, source="test")


def _run(session: Session, settings: Settings, system: IndicatorSystem) -> dict[str, EntityRating]:
    run = rate(session, settings, as_of=AS_OF, system=system)
    rows = session.scalars(select(EntityRating).where(EntityRating.run_id == run.id))
    return {r.uscc: r for r in rows}


def test_scores_grades_vetoes_and_depth_by_hand(
    session: Session, catalog: Catalog, settings: Settings, small: IndicatorSystem
) -> None:
    x, y, z = (make_uscc(seed=n) for n in (1, 2, 3))
    create_entity(session, uscc=x, establish_date=date(2021, 1, 1), size_class="small")
    create_entity(session, uscc=y, establish_date=date(2025, 10, 1), size_class="micro")
    create_entity(session, uscc=z, establish_date=date(2021, 10, 1), size_class=None)
    penalty(session, x, "2025-06-01")  # inside three years
    penalty(session, x, "2022-06-01")  # four years before the as-of date: not counted
    dishonest(session, y, removed=None)  # still listed: veto
    dishonest(session, z, removed="2026-01-15")  # removed: no veto

    rated = _run(session, settings, small)

    # x: law 60 (one penalty); capacity (3×100 + 1×80)/4 = 95 → 1000×(60×60+40×95)/10000
    assert rated[x].score == 740.0
    assert rated[x].grade == "B"
    assert rated[x].veto is None
    assert rated[x].sheet["p"] == [60, 100, 80]
    # y: law 100; age 0 → 50, micro 40: capacity 47.5 → 790, but listed as dishonest: C
    assert rated[y].score == 790.0
    assert (rated[y].grade, rated[y].veto) == ("C", "dishonest")
    # z: age 4 (not yet 5: anniversary in October) → 100; no size → 0: capacity 75 → 900
    assert rated[z].score == 900.0
    assert (rated[z].grade, rated[z].veto) == ("A", None)
    # depth: the registry plus each item with records
    assert (rated[x].data_sources, rated[x].data_depth) == (2, "deep")
    assert (rated[y].data_sources, rated[z].data_sources) == (2, 2)
    # reasons: the indicators that lost most weighted points, worst first
    # (small scores 80, the best its status table gives: no reason)
    assert rated[x].reasons.split(",") == ["penalties_3y"]
    assert rated[z].reasons == "size_class"


def test_percentile_among_peers(
    session: Session, catalog: Catalog, settings: Settings, small: IndicatorSystem
) -> None:
    codes = [make_uscc(seed=10 + n) for n in range(3)]
    for code in codes:
        create_entity(session, uscc=code, size_class="small", establish_date=date(2015, 1, 1))
    penalty(session, codes[0], "2026-01-10")
    penalty(session, codes[0], "2026-02-10")  # two penalties: the lowest of the three
    penalty(session, codes[1], "2026-03-10")
    other = make_uscc(seed=20)
    create_entity(session, uscc=other, size_class="micro")  # another peer group: alone

    rated = _run(session, settings, small)

    assert [rated[c].percentile for c in codes] == [0.0, 50.0, 100.0]
    assert rated[codes[0]].peer_group == "35|F|small"
    assert rated[other].percentile == 0.0


def test_history_is_kept_and_grade_changes_are_recorded(
    session: Session, catalog: Catalog, settings: Settings, small: IndicatorSystem
) -> None:
    firm = make_uscc(seed=30)
    create_entity(session, uscc=firm, size_class="small", establish_date=date(2015, 1, 1))
    first = _run(session, settings, small)
    assert first[firm].grade == "A"
    dishonest(session, firm, removed=None)
    second = _run(session, settings, small)
    assert second[firm].grade == "C"

    changes = session.scalars(select(RatingChange).where(RatingChange.uscc == firm)).all()
    assert [(c.previous_grade, c.grade) for c in changes] == [("A", "C")]
    found = service.portrait(session, uscc=firm, system=small)
    assert [p.grade for p in found.history] == ["A", "C"]
    assert found.veto is not None
    assert found.veto.code == "dishonest"
    # nothing lost points: lifting the veto is all that would raise the rating
    assert [(i.kind, i.code) for i in found.improvements] == [("veto", "dishonest")]


def test_portrait_sheet_and_improvements_follow_the_weights(
    session: Session, catalog: Catalog, settings: Settings
) -> None:
    firm = make_uscc(seed=40)
    create_entity(session, uscc=firm, size_class="micro", establish_date=date(2024, 1, 1))
    penalty(session, firm, "2026-05-01", severity="严重")
    system = load_system()
    _run(session, settings, system)

    found = service.portrait(session, uscc=firm)
    lines = {i.code: i for d in found.dimensions for i in d.indicators}
    assert lines["penalties_3y"].value == 1.0
    assert lines["penalties_3y"].points == 75
    assert lines["severe_penalties_3y"].points == 40
    coeff, divisor = system.coefficients()
    assert lines["severe_penalties_3y"].lost == pytest.approx(
        coeff["severe_penalties_3y"] * 60 * 1000 / divisor, abs=0.01
    )
    total = sum(i.lost for i in lines.values())
    assert found.score == pytest.approx(1000 - total, abs=0.1)
    gains = [imp.gain for imp in found.improvements]
    assert gains == sorted(gains, reverse=True)
    assert len(gains) == 3
    assert found.improvements[0].code == "severe_penalties_3y"  # the largest weighted loss
    assert found.peers.size_class == "微型"


def test_duckdb_and_spark_give_identical_ratings(
    session: Session, catalog: Catalog, settings: Settings
) -> None:
    for n in range(12):
        code = make_uscc(seed=100 + n)
        create_entity(
            session, uscc=code, size_class=["micro", "small", None][n % 3],
            establish_date=date(2010 + n, 1 + n % 12, 1), registered_capital=10.0 * n,
        )  # fmt: skip
        for k in range(n % 4):
            penalty(session, code, f"202{4 + k % 3}-0{1 + k}-15", severity=["一般", "严重"][k % 2])
        if n % 5 == 0:
            dishonest(session, code, removed=None if n else "2026-02-01")
    system = load_system()
    features = system.used_features(load_features())
    items = [catalog.item(c) for c in features.items()]
    records = policy.evaluation_records(session, items=items, fields=features.fields())
    registry = entities_service.registry_frame(session)

    results = {
        engine: batch.evaluate(
            system,
            features,
            records=records,
            registry=registry,
            as_of=AS_OF,
            con=engines.connect(engine, threads=1),
        )
        for engine in (Engine.duckdb, Engine.spark)
    }
    duck, spark = results[Engine.duckdb], results[Engine.spark]
    assert duck.height == 12
    assert duck["grade"].n_unique() > 1  # the sample is not trivially uniform
    assert duck.equals(spark.select(duck.columns).cast(dict(duck.schema)))


def test_the_platform_rating_reads_public_items_only(session: Session, catalog: Catalog) -> None:
    with pytest.raises(Forbidden, match="not publicly disclosable"):
        policy.evaluation_records(
            session, items=[catalog.item("social_insurance")], fields=["period"]
        )
    with pytest.raises(Forbidden, match="legal_rep_id_number of item registration"):
        policy.evaluation_records(
            session, items=[catalog.item("registration")], fields=["legal_rep_id_number"]
        )
    frame = policy.evaluation_records(
        session, items=[catalog.item("admin_penalty")], fields=["severity"]
    )
    assert isinstance(frame, pl.DataFrame)
    assert frame.columns == ["uscc", "item_code", "event_date", "f_severity"]


def test_a_re_rating_places_the_entity_among_the_full_runs_peers(
    session: Session, catalog: Catalog, settings: Settings, small: IndicatorSystem
) -> None:
    """Re-rated alone, an entity's percentile is its percent rank among the other entities of
    its peer group in the latest full run (not 0, as among a group of one)."""
    firms = [make_uscc(seed=70 + n) for n in range(4)]
    for n, firm in enumerate(firms):
        create_entity(
            session, uscc=firm, size_class="small", establish_date=date(2010 + 3 * n, 1, 1)
        )
    penalty(session, firms[0], "2026-05-01", severity="严重")
    full = _run(session, settings, small)
    best = max(firms, key=lambda f: full[f].score)  # others score lower: a percentile above 0
    again = batch.run_rating(
        session,
        catalog=catalog,
        as_of=AS_OF,
        triggered_by="test",
        settings=settings,
        system=small,
        usccs=[best],
    )
    [row] = session.scalars(select(EntityRating).where(EntityRating.run_id == again.id))
    group = [r for r in full.values() if r.peer_group == row.peer_group and r.uscc != row.uscc]
    lower = sum(1 for r in group if r.score < row.score)
    assert lower > 0
    assert row.percentile == pytest.approx(round(100.0 * lower / len(group), 2))
    assert len(group) == 3
