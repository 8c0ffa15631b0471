"""The incremental scan: read the access log after the cursor, run every rule over the batch
(columnar, :mod:`rongxin.monitoring.evaluation`), write alerts idempotently, escalate repeated
violations to suspension, advance the cursor — all in the caller's transaction.

The batch is read through ``rongxin.audit.service`` only; authorizations through
``rongxin.consent.service``; suspension through ``rongxin.institutions.service``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

import polars as pl
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from rongxin.audit import service as audit_service
from rongxin.audit.schemas import ActorKind
from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.consent import service as consent_service
from rongxin.consent.errors import AuthorizationNotFound
from rongxin.logging import get_logger
from rongxin.monitoring import escalation, evaluation
from rongxin.monitoring.errors import InvalidScan
from rongxin.monitoring.models import Alert, MonitoringCursor, MonitoringHourly
from rongxin.monitoring.rules import AbuseRules, RuleCode, load_rules
from rongxin.monitoring.schemas import AlertStatus, ScanResult

log = get_logger(__name__)

CURSOR: Final = "abuse_rules"
CHUNK: Final = 50_000
GRANTS_SCHEMA: Final = pl.Schema(
    {
        "authorization_id": pl.String(),
        "actor_code": pl.String(),
        "uscc": pl.String(),
        "has_loan_ref": pl.Boolean(),
    }
)


class WindowedCount(NamedTuple):
    """A rule that counts the entries flagged ``flag`` per institution and window (or, with
    ``distinct_uscc``, the distinct enterprises they are about) against its ``threshold``
    setting."""

    rule: RuleCode
    flag: str
    threshold: str
    distinct_uscc: bool = False


#: The window rules evaluated by :func:`rongxin.monitoring.evaluation.windowed_count`, in the
#: order their alerts are raised.
WINDOWED_COUNTS: Final = (
    WindowedCount(RuleCode.refused_reads, flag="denied", threshold="min_denied"),
    WindowedCount(RuleCode.unauthorized_reads, flag="unauthorized", threshold="min_reads"),
    WindowedCount(
        RuleCode.public_bulk,
        flag="unauthorized_public",
        threshold="min_enterprises",
        distinct_uscc=True,
    ),
)


def cursor(session: Session) -> int:
    """The last access-log seq the scan has processed (0: none yet)."""
    row = session.get(MonitoringCursor, CURSOR)
    return row.last_seq if row is not None else 0


def _lock_cursor(session: Session, now: datetime) -> MonitoringCursor:
    row = session.get(MonitoringCursor, CURSOR, with_for_update=True, populate_existing=True)
    if row is None:
        row = MonitoringCursor(name=CURSOR, last_seq=0, scanned_at=now)
        session.add(row)
        session.flush()
    else:
        row.scanned_at = now  # on SQLite: the write lock, before anything is read
        session.flush()
    return row


def _grants(session: Session, ids: list[str]) -> pl.DataFrame:
    """The cited authorizations: whose they are, about whom, and whether they carry a loan
    application reference (one look-up per distinct id, not per entry)."""
    rows: list[dict[str, Any]] = []
    for authorization_id in ids:
        try:
            row = consent_service.load_authorization(session, authorization_id)
        except AuthorizationNotFound:
            continue  # an unknown authorization grants nothing
        rows.append(
            {
                "authorization_id": row.id,
                "actor_code": row.institution_code,
                "uscc": row.uscc,
                "has_loan_ref": bool(row.loan_application_ref.strip()),
            }
        )
    return pl.DataFrame(rows, schema=GRANTS_SCHEMA, orient="row").rename(
        {"actor_code": "institution_code"}
    )


def _load_windows(session: Session, batch: pl.DataFrame, rules: AbuseRules) -> pl.DataFrame:
    """Every read entry of the batch's institutions in every window the batch touched."""
    actors = batch.get_column("actor_code").unique().sort().to_list()
    frames = [
        audit_service.entry_frame(
            session,
            since=start,  # type: ignore[arg-type]
            until=end,  # type: ignore[arg-type]
            actor_kind=ActorKind.institution.value,
            actor_codes=actors,
            actions=rules.read_actions,
        )
        for start, end in evaluation.load_ranges(batch, rules)
    ]
    return pl.concat(frames).unique("seq").sort("seq") if frames else batch


def _store_hourly(session: Session, hourly: pl.DataFrame) -> None:
    """Replace the hourly counts of the touched hours (recomputed: idempotent)."""
    by_institution: dict[str, list[datetime]] = defaultdict(list)
    for code, hour in hourly.select("institution_code", "hour_start").iter_rows():
        by_institution[code].append(hour)
    for code, hours in by_institution.items():
        session.execute(
            delete(MonitoringHourly).where(
                MonitoringHourly.institution_code == code, MonitoringHourly.hour_start.in_(hours)
            )
        )
    if hourly.height:
        session.execute(insert(MonitoringHourly), hourly.to_dicts())


def _history(session: Session, candidates: pl.DataFrame, days: int) -> pl.DataFrame:
    schema = pl.Schema(
        {
            "institution_code": pl.String(),
            "hour_start": pl.Datetime("us", "UTC"),
            "reads": pl.Int64(),
        }
    )
    if candidates.height == 0:
        return pl.DataFrame(schema=schema)
    earliest = candidates.get_column("window_start").min()
    latest = candidates.get_column("window_start").max()
    stmt = select(
        MonitoringHourly.institution_code, MonitoringHourly.hour_start, MonitoringHourly.reads
    ).where(
        MonitoringHourly.institution_code.in_(
            candidates.get_column("institution_code").unique().to_list()
        ),
        MonitoringHourly.hour_start >= earliest - timedelta(days=days),  # type: ignore[operator]
        MonitoringHourly.hour_start < latest,
    )
    return pl.DataFrame(session.execute(stmt).all(), schema=schema, orient="row")


def evaluate_batch(
    session: Session, batch: pl.DataFrame, *, rules: AbuseRules, catalog: Catalog
) -> pl.DataFrame:
    """Alert candidates of every enabled window rule for the windows ``batch`` touched."""
    non_public = [i.code for i in catalog.items if not i.is_public]
    frame = evaluation.prepare(_load_windows(session, batch, rules), non_public_items=non_public)
    frame = evaluation.with_grant_check(frame, _grants(session, evaluation.cited_ids(frame)))
    frame = frame.with_columns(unauthorized_public=pl.col("read") & ~pl.col("authorized"))
    _store_hourly(session, evaluation.hourly(frame, batch))
    session.flush()
    found: list[pl.DataFrame] = []
    spike = rules.volume_spike
    if spike.enabled:
        candidates = evaluation.spike_candidates(frame, batch, spike)
        history = _history(session, candidates, spike.baseline_days)
        found.append(evaluation.volume_spike(candidates, history, spike))
    for counted in WINDOWED_COUNTS:
        rule = getattr(rules, counted.rule.value)
        if rule.enabled:
            found.append(
                evaluation.windowed_count(
                    frame,
                    batch,
                    rule=counted.rule,
                    flag=counted.flag,
                    hours=rule.window_hours,
                    least=getattr(rule, counted.threshold),
                    distinct_uscc=counted.distinct_uscc,
                )
            )
    if rules.off_hours_bulk.enabled:
        found.append(evaluation.off_hours(frame, batch, rules.off_hours_bulk))
    if not found:
        return pl.DataFrame(schema=evaluation.CANDIDATE_SCHEMA)
    return pl.concat(found)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _upsert(
    session: Session, candidates: pl.DataFrame, *, rules: AbuseRules, now: datetime
) -> tuple[list[Alert], list[Alert]]:
    """Create an alert per new (rule, institution, window); refresh the counts and evidence of
    one already raised (its handling is kept). Returns (created, updated)."""
    if candidates.height == 0:
        return [], []
    existing = {
        (a.rule_code, a.institution_code, _utc(a.window_start)): a
        for a in session.scalars(
            select(Alert).where(
                Alert.rule_code.in_(candidates.get_column("rule_code").unique().to_list()),
                Alert.institution_code.in_(
                    candidates.get_column("institution_code").unique().to_list()
                ),
                Alert.window_start >= candidates.get_column("window_start").min(),
                Alert.window_start <= candidates.get_column("window_start").max(),
            )
        )
    }
    created: list[Alert] = []
    updated: list[Alert] = []
    for c in candidates.to_dicts():  # one row per alert, not per log entry
        rule = RuleCode(c["rule_code"])
        key = (rule.value, c["institution_code"], _utc(c["window_start"]))
        fields = {
            "rule_version": rules.version,
            "severity": rules.rule(rule).severity.value,
            "window_end": _utc(c["window_end"]),
            "observed": c["observed"],
            "threshold": c["threshold"],
            "baseline": c["baseline"],
            "counts": {"entries": c["entries"], "enterprises": c["enterprises"]},
            "first_seq": c["first_seq"],
            "last_seq": c["last_seq"],
            "sample_seqs": list(c["sample_seqs"]),
        }
        alert = existing.get(key)
        if alert is None:
            alert = Alert(
                id=uuid.uuid4().hex,
                rule_code=rule.value,
                institution_code=c["institution_code"],
                window_start=key[2],
                related_alert_ids=[],
                action_taken="",
                status=AlertStatus.open.value,
                created_at=now,
                updated_at=now,
                note="",
                **fields,
            )
            session.add(alert)
            existing[key] = alert
            created.append(alert)
        elif any(getattr(alert, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(alert, k, v)
            alert.updated_at = now
            updated.append(alert)
    session.flush()
    return created, updated


def scan(
    session: Session,
    *,
    settings: Settings,
    now: datetime,
    since: int | None = None,
    rules: AbuseRules | None = None,
    catalog: Catalog | None = None,
    chunk_size: int = CHUNK,
) -> ScanResult:
    """Run every rule over the access-log entries after the cursor (or after ``since``: a
    re-scan, which changes nothing already recorded), in chunks of ``chunk_size`` seqs; write
    alerts, escalate, and advance the cursor. Flushes, never commits."""
    if now.tzinfo is None:
        raise InvalidScan("now needs a time zone", field="now")
    if since is not None and since < 0:
        raise InvalidScan("since must be a sequence number (0 or more)", field="since")
    if chunk_size < 1:
        raise InvalidScan("chunk_size must be positive", field="chunk_size")
    rules = rules or load_rules(settings.abuse_rules_path)
    catalog = catalog or catalog_service.load_catalog(settings.catalog_path)
    row = _lock_cursor(session, now)
    start = row.last_seq if since is None else since
    tail = audit_service.last_seq(session)
    position, scanned = start, 0
    created: list[Alert] = []
    updated: list[Alert] = []
    suspended: list[str] = []
    while position < tail:
        through = min(position + chunk_size, tail)
        batch = audit_service.entry_frame(
            session,
            after_seq=position,
            through_seq=through,
            actor_kind=ActorKind.institution.value,
            actions=rules.read_actions,
        )
        if batch.height:
            scanned += batch.height
            candidates = evaluate_batch(session, batch, rules=rules, catalog=catalog)
            new, changed = _upsert(session, candidates, rules=rules, now=now)
            created += new
            updated += changed
            touched = {a.institution_code for a in [*new, *changed]}
            escalations, cut = escalation.escalate(session, touched, rules=rules, now=now)
            created += escalations
            suspended += cut
        position = through
    row.last_seq = max(row.last_seq, position)
    session.flush()
    log.info(
        "monitoring_scan",
        from_seq=start,
        to_seq=position,
        entries=scanned,
        created=len(created),
        updated=len(updated),
        suspended=suspended,
    )
    return ScanResult(
        from_seq=start,
        to_seq=position,
        entries_scanned=scanned,
        rule_version=rules.version,
        alerts_created=[a.id for a in created],
        alerts_updated=[a.id for a in updated],
        suspended=suspended,
    )
