"""Benchmark the policy decision point and masked rendering (issue 4), as a ratio to the public
report, at N entities.

On the database ``bench_reports.py`` builds (registry and every public item ingested by the
platform), this also ingests two non-public items — social insurance (社保缴纳, many monthly
records) and gas bills (用气缴费, account numbers masked) — onboards an institution and has a
sample of enterprises authorize it (pre-loan, both items). Then, in one process and for the
same entities in rotating order, it assembles and serialises (JSON) each entity's report:

* ``public``: the institution asks for purpose 贷中审批, which no authorization covers —
  the public report (the baseline);
* ``authorized``: purpose 贷前审查 — the policy finds the authorization, reads the two items
  within its data date range and masks the account numbers;
* ``subject``: the enterprise itself (self_query, everything unmasked);
* ``decisions``: the policy decisions alone for every catalog item (no reading, no rendering).

Issuance logging is the same for every kind and is measured by ``bench_reports.py``.

    .venv/bin/python benchmarks/bench_policy.py --entities 1000000 \
        --database-url sqlite:///var/bench/reports1m.db [--sample 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench_reports import BENCH_DIR, prepare
from sqlalchemy import func, select

from rongxin.access import policy
from rongxin.access.schemas import Principal, PrincipalKind, Purpose
from rongxin.catalog import service as catalog_service
from rongxin.config import Settings
from rongxin.consent import lifecycle, requests
from rongxin.consent import service as consent_service
from rongxin.consent.evidence import evidence_key
from rongxin.consent.notice import load_notices
from rongxin.consent.purposes import load_templates
from rongxin.consent.schemas import AuthorizationRequest
from rongxin.db.base import utcnow
from rongxin.db.session import build_engine, session_factory, session_scope
from rongxin.ingest.manifest import read_manifest
from rongxin.ingest.models import IngestBatch
from rongxin.ingest.service import ingest_file
from rongxin.reports import service as reports_service

AUTHORIZED_ITEMS = ("social_insurance", "gas")
INSTITUTION = "bench_bank"


def ingest_private_items(url: str, synth_dir: Path) -> dict[str, float]:
    """Ingest the two non-public items once (skipped when already there)."""
    engine = build_engine(Settings(database_url=url))
    factory = session_factory(engine)
    catalog = catalog_service.load_catalog()
    timings: dict[str, float] = {}
    deliveries, _ = read_manifest(synth_dir / "manifest.json", catalog)
    for delivery in deliveries:
        if delivery.item_code not in AUTHORIZED_ITEMS:
            continue
        with factory() as session:
            done = session.scalar(
                select(func.count())
                .select_from(IngestBatch)
                .where(IngestBatch.item_code == delivery.item_code)
            )
        if done:
            continue
        start = time.perf_counter()
        with session_scope(factory) as session:
            ingest_file(session, catalog=catalog, delivery=delivery, origin_node="bench")
        timings[f"ingest_{delivery.item_code}_seconds"] = round(time.perf_counter() - start, 1)
    engine.dispose()
    return timings


def authorize(url: str, usccs: list[str]) -> None:
    """Each enterprise of ``usccs`` authorizes the institution (pre-loan, both items)."""
    engine = build_engine(Settings(database_url=url))
    catalog = catalog_service.load_catalog()
    templates, notices, key = load_templates(), load_notices(), evidence_key("bench-secret")
    bank = Principal(kind=PrincipalKind.institution, code=INSTITUTION)
    now = utcnow()
    with session_scope(session_factory(engine)) as session:
        for uscc in usccs:
            asked = requests.request_authorization(
                session,
                catalog=catalog,
                templates=templates,
                institution_code=INSTITUTION,
                spec=AuthorizationRequest(
                    uscc=uscc,
                    loan_application_ref="BENCH-LA-1",
                    purpose=Purpose.pre_loan,
                    items=list(AUTHORIZED_ITEMS),
                    data_from_date=now.date() - timedelta(days=1095),
                    data_to_date=now.date(),
                    retention_days=30,
                    valid_until=now + timedelta(days=20),
                ),
                actor=bank,
                now=now,
            )
            lifecycle.approve(
                session,
                authorization_id=asked.id,
                uscc=uscc,
                actor=Principal(kind=PrincipalKind.enterprise, code=uscc),
                risk_notice_sha256=notices.in_force(now).sha256,
                notices=notices,
                key=key,
                now=now,
            )
    engine.dispose()


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
    }


def measure(url: str, usccs: list[str], rounds: int) -> dict[str, Any]:
    settings = Settings(database_url=url)
    engine = build_engine(settings)
    factory = session_factory(engine)
    catalog = catalog_service.load_catalog()
    bank = Principal(kind=PrincipalKind.institution, code=INSTITUTION)

    def report(principal: Principal, purpose: Purpose) -> Callable[[Any, str], int]:
        def run(session: Any, uscc: str) -> int:
            viewer = (
                principal
                if principal.kind is not PrincipalKind.enterprise
                else (Principal(kind=PrincipalKind.enterprise, code=uscc))
            )
            built = reports_service.assemble_report(
                session,
                catalog=catalog,
                uscc=uscc,
                requester=viewer,
                purpose=purpose,
                settings=settings,
            )
            built.json()
            return built.record_count

        return run

    def decisions(session: Any, uscc: str) -> int:
        grants = consent_service.active_authorizations(
            session, institution_code=INSTITUTION, uscc=uscc, purpose=Purpose.pre_loan, at=utcnow()
        )
        allowed = 0
        for item in catalog.items:
            decision = policy.decide(
                session, principal=bank, uscc=uscc, item=item, purpose=Purpose.pre_loan,
                grants=grants,
            )  # fmt: skip
            allowed += decision.allowed
        return allowed

    kinds: dict[str, Callable[[Any, str], int]] = {
        "public": report(bank, Purpose.in_loan),
        "authorized": report(bank, Purpose.pre_loan),
        "subject": report(Principal(kind=PrincipalKind.enterprise, code="-"), Purpose.self_query),
        "decisions": decisions,
    }
    times: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, float] = dict.fromkeys(kinds, 0.0)
    records: dict[str, int] = dict.fromkeys(kinds, 0)
    names = list(kinds)
    with factory() as session:
        for uscc in usccs[:50]:  # warm the caches once
            for run in kinds.values():
                run(session, uscc)
        for r in range(rounds):
            for i, uscc in enumerate(usccs):
                shift = (i + r) % len(names)
                for name in names[shift:] + names[:shift]:  # rotate: no kind always goes first
                    start, start_cpu = time.perf_counter(), time.process_time()
                    records[name] += kinds[name](session, uscc)
                    times[name].append(time.perf_counter() - start)
                    cpu[name] += time.process_time() - start_cpu
            session.rollback()
    engine.dispose()
    n = len(usccs) * rounds
    out: dict[str, Any] = {}
    for name in names:
        out[name] = {
            **_stats(times[name]),
            "cpu_ms": round(cpu[name] / n * 1000, 3),
            "records_per_report" if name != "decisions" else "items_allowed": round(
                records[name] / n, 1
            ),
        }
    base = out["public"]["mean_ms"]
    out["ratio_authorized_to_public"] = round(out["authorized"]["mean_ms"] / base, 2)
    out["ratio_subject_to_public"] = round(out["subject"]["mean_ms"] / base, 2)
    out["ratio_decisions_to_public"] = round(out["decisions"]["mean_ms"] / base, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--sample", type=int, default=1000, help="authorized enterprises")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, default=BENCH_DIR.parent / "var" / "bench")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{args.work / f'reports{args.entities}.db'}"
    db = prepare(url, args.entities, args.work)
    timings = ingest_private_items(url, args.work / f"synth-{args.entities}")
    rng = random.Random(52)
    sample = rng.sample(db["usccs"], min(args.sample, len(db["usccs"])))
    start = time.perf_counter()
    authorize(url, sample)
    timings["authorize_seconds"] = round(time.perf_counter() - start, 1)
    result = {
        "database": url.split("://")[0],
        "entities": db["entities"],
        "records": db["records"],
        "authorized_enterprises": len(sample),
        "authorized_items": list(AUTHORIZED_ITEMS),
        "rounds": args.rounds,
        **timings,
        **measure(url, sample, args.rounds),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
