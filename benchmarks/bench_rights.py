"""Benchmark the end of publication at the maximum period (credit repair rules, issue 6).

1. **Rule evaluation**, N penalty records: the column-wise publication end
   (``rights.repair.publication_ends``, Polars) against the same rules applied record by record
   in Python (``RightsRules.publicity``) — the baseline — measured in the same run; both must
   give identical dates.
2. **The daily sweep end to end** on a fresh database holding the N records, ingested by the
   platform: ``deadlines.sweep`` with a day on which a share of them passes its maximum (each
   such record gets an ``expired`` version and the enterprise a notice).

    .venv/bin/python benchmarks/bench_rights.py --records 1000000 \\
        --database-url sqlite:///var/bench/rights.db
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from rongxin.catalog import service as catalog_service
from rongxin.config import Settings
from rongxin.db import migrate
from rongxin.db.session import build_engine, session_factory, session_scope
from rongxin.entities.uscc import check_character, organization_check_character
from rongxin.ingest.service import Delivery, ingest_file
from rongxin.rights import deadlines
from rongxin.rights.repair import publication_ends
from rongxin.rights.rules import load_rules

TIERS = ("轻微", "一般", "严重")
DOMAINS = ("无", "无", "无", "无", "消防", "安全生产", "特种设备")


def _uscc(n: int) -> str:
    body = f"{n:08d}"
    first17 = f"91350102{body}{organization_check_character(body)}"
    return first17 + check_character(first17)


def penalties(n: int, seed: int = 7) -> pl.DataFrame:
    rng = random.Random(seed)
    start = date(2018, 1, 1).toordinal()
    span = date(2026, 11, 27).toordinal() - start
    return pl.DataFrame(
        {
            "uscc": [_uscc(i % 400_000 + 1) for i in range(n)],
            "decision_no": [f"罚〔{2018 + i % 9}〕{i}号" for i in range(n)],
            "violation_type": ["未按规定公示年度报告"] * n,
            "penalty_type": ["罚款"] * n,
            "fine_amount": [rng.randint(1, 200) * 500 for _ in range(n)],
            "decision_date": [
                date.fromordinal(start + rng.randrange(span)).isoformat() for _ in range(n)
            ],
            "authority": ["某市市场监督管理局"] * n,
            "severity": [rng.choice(TIERS) for _ in range(n)],
            "special_domain": [rng.choice(DOMAINS) for _ in range(n)],
        }
    )


def rule_evaluation(frame: pl.DataFrame) -> dict[str, float]:
    rules = load_rules()
    fields = frame.select(
        pl.col("decision_date").alias("f_decision_date"),
        pl.col("severity").alias("f_severity"),
        pl.col("special_domain").alias("f_special_domain"),
    )
    start = time.perf_counter()
    columnar = publication_ends(rules, fields, "admin_penalty").to_list()
    columnar_s = time.perf_counter() - start
    start = time.perf_counter()
    rowwise = []
    for decided, tier, domain in fields.iter_rows():
        terms = rules.publicity(
            "admin_penalty",
            {"decision_date": decided, "severity": tier, "special_domain": domain},
        )
        rowwise.append(terms.published_until if terms else None)
    rowwise_s = time.perf_counter() - start
    if columnar != rowwise:
        raise SystemExit("column-wise and per-record publication ends differ")
    return {
        "columnar_seconds": round(columnar_s, 3),
        "per_record_seconds": round(rowwise_s, 3),
        "speedup": round(rowwise_s / columnar_s, 1),
    }


def sweep_end_to_end(frame: pl.DataFrame, url: str, work: Path) -> dict[str, float]:
    settings = Settings(database_url=url)
    engine = build_engine(settings)
    migrate.upgrade(engine)
    factory = session_factory(engine)
    catalog = catalog_service.load_catalog()
    path = work / "admin_penalty.csv"
    frame.write_csv(path)
    start = time.perf_counter()
    with session_scope(factory) as session:
        ingest_file(
            session,
            catalog=catalog,
            delivery=Delivery(path=path, provider_code="ndrc", item_code="admin_penalty"),
            origin_node="bench",
        )
    ingest_s = time.perf_counter() - start
    rules = load_rules()
    day = date(2026, 11, 27)
    start = time.perf_counter()
    with session_scope(factory) as session:
        result = deadlines.sweep(session, catalog=catalog, rules=rules, today=day)
    sweep_s = time.perf_counter() - start
    start = time.perf_counter()
    with session_scope(factory) as session:
        again = deadlines.sweep(session, catalog=catalog, rules=rules, today=day)
    quiet_s = time.perf_counter() - start
    later = day + timedelta(days=1)
    start = time.perf_counter()
    with session_scope(factory) as session:
        next_day = deadlines.sweep(session, catalog=catalog, rules=rules, today=later)
    next_s = time.perf_counter() - start
    return {
        "ingest_seconds": round(ingest_s, 1),
        "first_sweep_seconds": round(sweep_s, 1),
        "first_sweep_expired": result.expired_records,
        "repeat_sweep_seconds": round(quiet_s, 1),
        "repeat_sweep_expired": again.expired_records,
        "next_day_sweep_seconds": round(next_s, 1),
        "next_day_expired": next_day.expired_records,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="sqlite:///var/bench/rights.db")
    args = parser.parse_args()
    if args.database_url.startswith("sqlite:///"):
        db = Path(args.database_url.removeprefix("sqlite:///"))
        db.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    frame = penalties(args.records)
    out: dict[str, object] = {"records": args.records}
    out["rule_evaluation"] = rule_evaluation(frame)
    work = Path("var/bench")
    work.mkdir(parents=True, exist_ok=True)
    out["sweep"] = sweep_end_to_end(frame, args.database_url, work)
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
