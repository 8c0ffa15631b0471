"""Where one credit report's time goes, step by step, in one process (no server, no load).

Uses the database of ``bench_reports.py`` (built, or reused, the same way) and its institution
key, and times each step of issuing a report on random entities: authentication, the policy's
reads, assembly, the issuance rows and access-log event, the JSON, and logging the issuance in
its own transaction or in batches (as the group-commit writer does). As a baseline for the
statement steps, the same primary-key read on the raw DB-API cursor, measured in the same run.

    .venv/bin/python benchmarks/bench_report_steps.py --entities 1000000 \\
        --database-url sqlite:///var/bench/reports.db [--calls 3000]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_reports import prepare

from rongxin.access import service as access_service
from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import SharingMode
from rongxin.config import Settings
from rongxin.consent import service as consent_service
from rongxin.db.base import utcnow
from rongxin.db.session import build_engine, session_factory, session_scope
from rongxin.entities import service as entities_service
from rongxin.institutions import service as institutions_service
from rongxin.records import service as records_service
from rongxin.reports import service
from rongxin.reports.assembly import build_report
from rongxin.reports.schemas import ReportFormat, ReportPurpose

PURPOSE = ReportPurpose.pre_loan


def timed(fn: Callable[[str], Any], usccs: list[str], warm: int) -> float:
    """Mean µs per call of ``fn`` over ``usccs`` (after ``warm`` calls not counted)."""
    for uscc in usccs[:warm]:
        fn(uscc)
    start = time.perf_counter()
    for uscc in usccs[warm:]:
        fn(uscc)
    return (time.perf_counter() - start) / max(1, len(usccs) - warm) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=3_000)
    parser.add_argument("--work", type=Path, default=Path("var/bench"))
    args = parser.parse_args()
    db = prepare(args.database_url, args.entities, args.work)
    rng = random.Random(11)
    warm = max(1, args.calls // 10)

    def sample() -> list[str]:
        return [rng.choice(db["usccs"]) for _ in range(args.calls + warm)]

    settings = Settings(database_url=args.database_url)
    engine = build_engine(settings)
    factory = session_factory(engine)
    catalog = catalog_service.load_catalog()
    physical = [i.code for i in catalog.items if i.sharing_mode is SharingMode.physical]
    token, key_id = db["token"], db["token"].split("_")[1]
    out: dict[str, float] = {}
    with factory() as session:
        principal = access_service.authenticate(session, token=token)
        code, now = principal.code, utcnow()
        raw = session.connection().connection.driver_connection
        placeholder = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        raw_sql = f"SELECT * FROM market_entity WHERE uscc = {placeholder}"  # noqa: S608
        steps: dict[str, Callable[[str], Any]] = {
            "authenticate": lambda _: access_service.authenticate(session, token=token),
            "key row (Core, primary key)": lambda _: access_service._key_state(session, key_id),
            "institution active (Core)": lambda _: institutions_service.is_active(session, code),
            "entity row (raw DB-API cursor)": lambda u: raw.execute(raw_sql, (u,)).fetchone(),
            "get_entity": lambda u: entities_service.get_entity(session, uscc=u),
            "current_records": lambda u: records_service.current_records(
                session, uscc=u, item_codes=physical
            ),
            "active_authorizations": lambda u: consent_service.active_authorizations(
                session, institution_code=code, uscc=u, purpose=PURPOSE, at=now
            ),
            "build_report (reads and assembly)": lambda u: build_report(
                session, catalog=catalog, uscc=u, requester=principal, purpose=PURPOSE,
                node_id=settings.node_id,
            ),
        }  # fmt: skip
        for name, fn in steps.items():
            out[name] = timed(fn, sample(), warm)
        usccs = sample()
        reports = {
            u: build_report(
                session, catalog=catalog, uscc=u, requester=principal, purpose=PURPOSE,
                node_id=settings.node_id,
            )
            for u in usccs
        }  # fmt: skip
        session.rollback()
    out["issuance rows and event"] = timed(
        lambda u: service.Issuance(
            report=reports[u], requester=principal, format=ReportFormat.json, settings=settings
        ),
        usccs,
        warm,
    )
    out["JSON"] = timed(lambda u: reports[u].json(), usccs, warm)

    def log(batch: list[str]) -> None:
        issuances = [
            service.Issuance(
                report=reports[u], requester=principal, format=ReportFormat.json, settings=settings
            )
            for u in batch
        ]
        with session_scope(factory) as writer:
            refusals = service.record_issuances(writer, issuances)
        assert not any(refusals), refusals

    logged = list(dict.fromkeys(usccs))  # a report is logged once
    for size in (1, 4):
        chunk, logged = logged[: 300 * size], logged[300 * size :]
        batches = [chunk[i : i + size] for i in range(0, len(chunk), size)]
        start = time.perf_counter()
        for batch in batches:
            log(batch)
        per_batch = (time.perf_counter() - start) / len(batches) * 1e6
        out[f"log issuance, batches of {size} (per report)"] = per_batch / size
    print(
        json.dumps(
            {
                "database": args.database_url.split("://")[0],
                "entities": db["entities"],
                "calls_per_step": args.calls,
                "microseconds": {k: round(v, 1) for k, v in out.items()},
            },
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
