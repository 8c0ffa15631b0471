"""Importing, looking up and searching market entities."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from entity_factories import (
    ANNUAL_HEADER,
    REGISTRATION_HEADER,
    annual_row,
    create_entity,
    make_uscc,
    registration_row,
    write_csv,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rongxin.entities import registry, service
from rongxin.entities import search as entity_search
from rongxin.entities.errors import EntityNotFound, InvalidUscc
from rongxin.entities.models import EntityNameGram, MarketEntity
from rongxin.entities.schemas import ImportSummary
from rongxin.ingest.errors import FileRejected

AS_OF = date(2024, 6, 30)
SOFTWARE = make_uscc(region="350102", seed=1)
TRADER = make_uscc(region="350203", seed=2)
FARM = make_uscc(prefix="93", region="350181", seed=3)


def _registrations() -> list[dict[str, str]]:
    return [
        registration_row(uscc=SOFTWARE),
        registration_row(
            uscc=TRADER,
            name="厦门市思明区鹭岛贸易有限公司",
            industry_code="5191",
            region_code="350203",
        ),
        registration_row(
            uscc=FARM,
            name="福清市龙田镇绿野果蔬专业合作社",
            industry_code="0141",
            region_code="350181",
            registered_capital="",
        ),
    ]


def _import(session: Session, tmp_path: Path, **kwargs: object) -> ImportSummary:
    reg = write_csv(tmp_path / "registration.csv", REGISTRATION_HEADER, _registrations())
    ann = write_csv(
        tmp_path / "annual_report.csv",
        ANNUAL_HEADER,
        [
            annual_row(uscc=SOFTWARE, report_year="2022", employees="5", revenue="40"),
            annual_row(uscc=SOFTWARE, report_year="2023", employees="120", revenue="1500"),
            annual_row(uscc=TRADER, employees="3", revenue="900"),
        ],
    )
    return registry.import_entities(
        session,
        registration=reg,
        annual_report=ann,
        origin_node="test-node",
        as_of=AS_OF,
        **kwargs,  # type: ignore[arg-type]
    )


def _count(session: Session, model: type[MarketEntity] | type[EntityNameGram]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_import_round_trip(session: Session, tmp_path: Path) -> None:
    summary = _import(session, tmp_path)
    assert (summary.inserted, summary.updated, summary.unchanged) == (3, 0, 0)
    assert summary.registration_rows == 3
    assert summary.annual_report_rows == 3
    assert summary.sized == 2
    assert summary.size_rule == "gxb-2011-300"
    assert summary.name_grams_written == _count(session, EntityNameGram) > 0

    software = service.get_entity(session, uscc=SOFTWARE)
    assert software.name == "福州市鼓楼区榕城软件科技有限公司"
    assert software.entity_type == "enterprise"
    assert software.entity_type_name == "企业"
    assert software.region_full_name == "福建省福州市鼓楼区"
    assert software.region_name == "鼓楼区"
    assert software.industry_section == "I"
    assert software.industry_section_name == "信息传输、软件和信息技术服务业"
    # the 2023 report wins over 2022: 软件业 120 people & 1500万 → medium
    assert (software.annual_report_year, software.employees, software.revenue) == (
        2023,
        120,
        1500.0,
    )
    assert (software.size_class, software.size_class_name) == ("medium", "中型")
    assert software.registered_capital == 500.0
    assert software.establish_date == date(2015, 6, 1)
    assert software.origin_node == "test-node"

    trader = service.get_entity(session, uscc=TRADER)
    assert (trader.size_class, trader.size_class_name) == ("micro", "微型")  # 批发 3 people

    farm = service.get_entity(session, uscc=FARM)
    assert farm.entity_type_name == "农民专业合作社"
    assert farm.size_class is None
    assert farm.size_class_name is None
    assert farm.registered_capital is None


def test_reimport_is_unchanged_and_update_rebuilds_grams(session: Session, tmp_path: Path) -> None:
    _import(session, tmp_path)
    again = _import(session, tmp_path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert again.name_grams_written == 0

    renamed = write_csv(
        tmp_path / "renamed.csv",
        REGISTRATION_HEADER,
        [registration_row(uscc=SOFTWARE, name="福州闽都数据服务有限公司", status="在业")],
    )
    summary = registry.import_entities(session, registration=renamed, origin_node="n2", as_of=AS_OF)
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 0)
    entity = service.get_entity(session, uscc=SOFTWARE)
    assert entity.name == "福州闽都数据服务有限公司"
    assert entity.status == "在业"
    assert entity.origin_node == "n2"
    assert entity.size_class == "medium"  # indicators kept when no annual report is given
    assert entity_search.search_entities(session, q="榕城软件").total == 0
    assert [e.uscc for e in entity_search.search_entities(session, q="闽都数据").items] == [
        SOFTWARE
    ]
    grams = session.scalars(
        select(EntityNameGram.gram).where(EntityNameGram.uscc == SOFTWARE)
    ).all()
    assert sorted(grams) == sorted(entity_search.name_grams("福州闽都数据服务有限公司"))


def test_older_annual_report_does_not_replace_newer(session: Session, tmp_path: Path) -> None:
    _import(session, tmp_path)
    old = write_csv(
        tmp_path / "old.csv",
        ANNUAL_HEADER,
        [annual_row(uscc=SOFTWARE, report_year="2020", employees="2", revenue="1")],
    )
    reg = write_csv(tmp_path / "none.csv", REGISTRATION_HEADER, [])
    summary = registry.import_entities(
        session, registration=reg, annual_report=old, origin_node="x", as_of=AS_OF
    )
    assert summary.updated == 0
    assert service.get_entity(session, uscc=SOFTWARE).annual_report_year == 2023


def test_search_by_partial_name_uscc_and_region(session: Session, tmp_path: Path) -> None:
    _import(session, tmp_path)
    # the middle of a name, not its start
    page = entity_search.search_entities(session, q="榕城软件")
    assert [e.uscc for e in page.items] == [SOFTWARE]
    assert page.total == 1
    assert page.items[0].region_full_name == "福建省福州市鼓楼区"
    assert page.items[0].size_class_name == "中型"

    assert [e.uscc for e in entity_search.search_entities(session, q=SOFTWARE.lower()).items] == [
        SOFTWARE
    ]
    both = entity_search.search_entities(session, q="有限公司")
    assert {e.uscc for e in both.items} == {SOFTWARE, TRADER}
    assert [e.name for e in both.items] == sorted(e.name for e in both.items)
    assert entity_search.search_entities(session, q="有限公司", region_prefix="3502").total == 1
    assert entity_search.search_entities(session, q="有限公司", region_prefix="350000").total == 2
    # bigrams all present but not contiguous: LIKE rejects it
    assert entity_search.search_entities(session, q="福州贸易").total == 0
    assert entity_search.search_entities(session, q="不存在的名字").total == 0
    # one character: name prefix
    assert [e.uscc for e in entity_search.search_entities(session, q="厦").items] == [TRADER]
    paged = entity_search.search_entities(session, q="", limit=2, offset=2)
    assert (paged.total, len(paged.items), paged.limit, paged.offset) == (3, 1, 2, 2)


def test_search_wildcards_are_literal(session: Session) -> None:
    create_entity(session, uscc=make_uscc(seed=7), name="百分百%科技有限公司")
    create_entity(session, uscc=make_uscc(seed=8), name="百分之百科技有限公司")
    assert entity_search.search_entities(session, q="百%").total == 1


def test_get_entity_errors(session: Session) -> None:
    with pytest.raises(EntityNotFound) as not_found:
        service.get_entity(session, uscc="91350100M000100Y43")
    assert "rongxin entities import" in not_found.value.message
    assert not_found.value.status == 404
    with pytest.raises(InvalidUscc) as invalid:
        service.get_entity(session, uscc="91350100M000100Y44")
    assert invalid.value.details["check"] == "check_character"
    assert invalid.value.status == 422


def test_get_entity_normalizes_full_width(session: Session) -> None:
    entity = create_entity(session)
    full_width = entity.uscc.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert service.get_entity(session, uscc=full_width.lower()).uscc == entity.uscc


def test_corrupt_csv_names_file_line_field_and_writes_nothing(
    session: Session, tmp_path: Path
) -> None:
    create_entity(session)
    before = (_count(session, MarketEntity), _count(session, EntityNameGram))
    rows = _registrations()
    rows[1]["uscc"] = rows[1]["uscc"][:-1] + ("0" if rows[1]["uscc"][-1] != "0" else "1")
    rows[2]["legal_rep_name"] = ""
    rows.append(registration_row(uscc=make_uscc(seed=5), establish_date="2020-02-30"))
    path = write_csv(tmp_path / "bad.csv", REGISTRATION_HEADER, rows)
    with pytest.raises(FileRejected) as err:
        registry.import_entities(session, registration=path, origin_node="x", as_of=AS_OF)
    exc = err.value
    assert str(path) in exc.message
    assert "line 3, field uscc" in exc.message  # header is line 1
    assert "position 18" in exc.message
    problems = exc.details["problems"]
    assert [(p["line"], p["field"]) for p in problems] == [
        (3, "uscc"),
        (4, "legal_rep_name"),
        (5, "establish_date"),
    ]
    assert "missing" in problems[1]["reason"]
    assert "YYYY-MM-DD" in problems[2]["reason"]
    assert exc.details["problem_count"] == 3
    assert (_count(session, MarketEntity), _count(session, EntityNameGram)) == before


def test_problem_list_is_capped_at_twenty(session: Session, tmp_path: Path) -> None:
    rows = [registration_row(uscc=f"BAD{i}", status="营业") for i in range(30)]
    path = write_csv(tmp_path / "many.csv", REGISTRATION_HEADER, rows)
    with pytest.raises(FileRejected) as err:
        registry.import_entities(session, registration=path, origin_node="x", as_of=AS_OF)
    assert len(err.value.details["problems"]) == 20
    assert err.value.details["problem_count"] == 60
    assert "and 59 more" in err.value.message


def test_missing_column_duplicate_and_enum(session: Session, tmp_path: Path) -> None:
    header = [h for h in REGISTRATION_HEADER if h != "status"]
    rows = [{k: v for k, v in registration_row().items() if k != "status"}]
    path = write_csv(tmp_path / "nostatus.csv", header, rows)
    with pytest.raises(FileRejected) as err:
        registry.import_entities(session, registration=path, origin_node="x", as_of=AS_OF)
    assert err.value.details["problems"][0]["field"] == "status"
    assert "column" in err.value.message

    rows2 = [registration_row(), registration_row(status="营业"), registration_row()]
    path2 = write_csv(tmp_path / "dupes.csv", REGISTRATION_HEADER, rows2)
    with pytest.raises(FileRejected) as err2:
        registry.import_entities(session, registration=path2, origin_node="x", as_of=AS_OF)
    found = {(p["line"], p["field"]): p["reason"] for p in err2.value.details["problems"]}
    assert "same as line 2" in found[(3, "uscc")]
    assert "same as line 2" in found[(4, "uscc")]
    assert "存续" in found[(3, "status")]


def test_annual_report_for_unknown_entity_is_rejected(session: Session, tmp_path: Path) -> None:
    reg = write_csv(tmp_path / "r.csv", REGISTRATION_HEADER, [registration_row(uscc=SOFTWARE)])
    ann = write_csv(
        tmp_path / "a.csv",
        ANNUAL_HEADER,
        [
            annual_row(uscc=SOFTWARE),
            annual_row(uscc=TRADER),
            annual_row(uscc=SOFTWARE, report_year="2023x"),
        ],
    )
    with pytest.raises(FileRejected) as err:
        registry.import_entities(
            session, registration=reg, annual_report=ann, origin_node="x", as_of=AS_OF
        )
    assert err.value.details["problems"][0]["line"] == 4
    assert err.value.details["problems"][0]["field"] == "report_year"

    ann2 = write_csv(
        tmp_path / "a2.csv", ANNUAL_HEADER, [annual_row(uscc=SOFTWARE), annual_row(uscc=TRADER)]
    )
    with pytest.raises(FileRejected) as err2:
        registry.import_entities(
            session, registration=reg, annual_report=ann2, origin_node="x", as_of=AS_OF
        )
    assert "line 3, field uscc" in err2.value.message
    assert "registration" in err2.value.message
    assert _count(session, MarketEntity) == 0


def test_jsonl_and_parquet(session: Session, tmp_path: Path) -> None:
    rows = _registrations()
    jsonl = tmp_path / "registration.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows[:2]) + "\n", encoding="utf-8"
    )
    summary = registry.import_entities(session, registration=jsonl, origin_node="x", as_of=AS_OF)
    assert summary.inserted == 2
    parquet = tmp_path / "registration.parquet"
    frame = pl.DataFrame(rows[2:]).with_columns(
        pl.col("establish_date").str.to_date(), pl.lit(None, pl.Float64).alias("registered_capital")
    )
    frame.write_parquet(parquet)
    ann = tmp_path / "annual.parquet"
    pl.DataFrame([annual_row(uscc=FARM, revenue="60")]).with_columns(
        pl.col("report_year").cast(pl.Int64), pl.col("revenue").cast(pl.Float64)
    ).write_parquet(ann)
    summary2 = registry.import_entities(
        session, registration=parquet, annual_report=ann, origin_node="x", as_of=AS_OF
    )
    assert summary2.inserted == 1
    assert service.get_entity(session, uscc=FARM).size_class == "small"  # 农业 营收 60 ≥ 50

    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps(registration_row(uscc=make_uscc(seed=11)))
        + "\n"
        + json.dumps(registration_row(uscc=make_uscc(seed=12), industry_code="9999"))
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(FileRejected) as err:
        registry.import_entities(session, registration=bad, origin_node="x", as_of=AS_OF)
    assert "line 2, field industry_code" in err.value.message  # JSON Lines: no header


def test_unreadable_files(session: Session, tmp_path: Path) -> None:
    with pytest.raises(FileRejected, match="unsupported file type"):
        registry.import_entities(
            session, registration=tmp_path / "x.xlsx", origin_node="x", as_of=AS_OF
        )
    with pytest.raises(FileRejected, match="no such file"):
        registry.import_entities(
            session, registration=tmp_path / "x.csv", origin_node="x", as_of=AS_OF
        )


def test_allow_listed_code_is_imported(session: Session, tmp_path: Path) -> None:
    legacy = SOFTWARE[:-1] + ("0" if SOFTWARE[-1] != "0" else "1")
    path = write_csv(tmp_path / "r.csv", REGISTRATION_HEADER, [registration_row(uscc=legacy)])
    with pytest.raises(FileRejected):
        registry.import_entities(session, registration=path, origin_node="x", as_of=AS_OF)
    summary = registry.import_entities(
        session, registration=path, origin_node="x", as_of=AS_OF, allow_list=frozenset({legacy})
    )
    assert summary.inserted == 1
    assert service.get_entity(session, uscc=legacy).uscc == legacy


def test_gram_frame_matches_name_grams() -> None:
    names = ["福州市鼓楼区榕城软件科技有限公司", "ABC（福建）Ｘ科技", "厦", "鹭鹭鹭岛"]
    frame = pl.DataFrame({"uscc": [str(i) for i in range(len(names))], "name": names})
    grams = entity_search.gram_frame(frame)
    for i, name in enumerate(names):
        got = sorted(grams.filter(pl.col("uscc") == str(i))["gram"].to_list())
        assert got == sorted(entity_search.name_grams(name))
    assert entity_search.name_grams("鹭鹭鹭岛") == ["鹭鹭", "鹭岛"]
    assert entity_search.name_grams("ＡＢc") == ["ab", "bc"]
