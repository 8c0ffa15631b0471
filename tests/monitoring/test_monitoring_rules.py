"""Each abuse rule fires on crafted traffic and stays quiet on normal traffic (Z3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from monitoring_factories import (
    BANK,
    PRIVATE_ITEM,
    PUBLIC_ITEM,
    T0,
    active_authorization,
    firm,
    log,
    read,
    reads,
)
from sqlalchemy.orm import Session

from rongxin.audit.schemas import Outcome
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.monitoring import service
from rongxin.monitoring.errors import RuleFileError
from rongxin.monitoring.rules import AbuseRules, RuleCode, Severity, load_rules, parse_rules
from rongxin.monitoring.schemas import AlertRead

NOW = T0 + timedelta(days=2)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def small(rules: AbuseRules) -> AbuseRules:
    """The shipped rules with thresholds small enough for crafted logs."""
    return rules.model_copy(
        update={
            "volume_spike": rules.volume_spike.model_copy(
                update={"min_reads": 20, "baseline_days": 1, "multiplier": 5.0}
            ),
            "refused_reads": rules.refused_reads.model_copy(update={"min_denied": 5}),
            "public_bulk": rules.public_bulk.model_copy(update={"min_enterprises": 10}),
            "off_hours_bulk": rules.off_hours_bulk.model_copy(update={"min_reads": 10}),
            "escalation": rules.escalation.model_copy(update={"enabled": False}),
        }
    )


def _alerts(session: Session, rule: RuleCode | None = None) -> list[AlertRead]:
    return list(service.list_alerts(session, rule=rule, limit=200).items)


def _scan(session: Session, settings: Settings, rules: AbuseRules, catalog: Catalog) -> None:
    service.scan(session, settings=settings, now=NOW, rules=rules, catalog=catalog)


def test_normal_traffic_raises_nothing(
    session: Session, settings: Settings, small: AbuseRules, catalog: Catalog
) -> None:
    grant = active_authorization(session, uscc=firm(1))
    events = []
    for day in range(3):  # three office days: a few public and authorized reads an hour
        start = T0 + timedelta(days=day)
        events += reads(start, 12, every=timedelta(minutes=20))
        events += [
            read(
                start + timedelta(minutes=5 + 30 * i),
                uscc=firm(1),
                items=[PUBLIC_ITEM, PRIVATE_ITEM],
                authorization_id=grant.id,
            )
            for i in range(6)
        ]
    events.append(read(T0, outcome=Outcome.denied, items=[PRIVATE_ITEM]))  # one refusal
    log(session, settings, events)
    result = service.scan(session, settings=settings, now=NOW, rules=small, catalog=catalog)
    assert result.entries_scanned == len(events)
    assert result.alerts_created == []
    assert _alerts(session) == []


def test_volume_spike_against_the_own_baseline(
    session: Session, settings: Settings, small: AbuseRules, catalog: Catalog
) -> None:
    day_before = T0 - timedelta(days=1)
    log(session, settings, reads(day_before, 48, every=timedelta(minutes=30)))  # 2 an hour
    log(session, settings, reads(T0, 25, every=MINUTE))  # 25 in one hour: > 5 × 2
    # another institution with a busy history: 25 an hour is its normal
    log(
        session, settings, reads(day_before, 24 * 25, every=timedelta(seconds=144), actor="bank-xm")
    )
    log(session, settings, reads(T0, 25, every=MINUTE, actor="bank-xm"))
    _scan(session, settings, small, catalog)
    spikes = _alerts(session, RuleCode.volume_spike)
    # (bank-xm's first busy hours had no history: they are spikes against nothing)
    [alert] = [a for a in spikes if a.window_start == T0]
    assert alert.institution_code == BANK
    assert alert.observed == 25
    assert alert.baseline == pytest.approx(2.0)
    assert alert.threshold == pytest.approx(20.0)  # the floor is above 5 × 2
    assert alert.severity is Severity.high
    assert alert.window_start == T0
    assert alert.window_end == T0 + timedelta(hours=1)
    assert alert.rule_version == small.version


def test_volume_below_the_floor_is_no_spike(
    session: Session, settings: Settings, small: AbuseRules, catalog: Catalog
) -> None:
    log(session, settings, reads(T0, 19, every=MINUTE))  # no history, but below 20
    _scan(session, settings, small, catalog)
    assert _alerts(session, RuleCode.volume_spike) == []


def test_refused_reads(
    session: Session, settings: Settings, small: AbuseRules, catalog: Catalog
) -> None:
    denied = {"outcome": Outcome.denied, "items": [PRIVATE_ITEM]}
    log(session, settings, reads(T0, 5, every=MINUTE, **denied))
    log(session, settings, reads(T0, 4, every=MINUTE, actor="bank-xm", **denied))
    _scan(session, settings, small, catalog)
    [alert] = _alerts(session, RuleCode.refused_reads)
    assert (alert.institution_code, alert.observed) == (BANK, 5)
    assert alert.sample_seqs == list(range(alert.first_seq, alert.first_seq + 5))


def test_non_public_reads_need_a_valid_authorization(
    session: Session, settings: Settings, small: AbuseRules, catalog: Catalog
) -> None:
    mine = active_authorization(session, uscc=firm(1))
    theirs = active_authorization(session, uscc=firm(2), institution="bank-xm")
    second = active_authorization(session, uscc=firm(1), items=["social_insurance"])
    private = [PUBLIC_ITEM, PRIVATE_ITEM]
    log(
        session,
        settings,
        [
            read(T0, uscc=firm(1), items=private, authorization_id=mine.id),  # fine
            read(  # a report under two authorizations (listed in the detail): fine
                T0 + MINUTE,
                uscc=firm(1),
                items=[PRIVATE_ITEM, "social_insurance"],
                detail=f"report r1; authorizations {mine.id}, {second.id}",
            ),
            read(
                T0 + 2 * MINUTE,
                actor="bank-xm",
                uscc=firm(2),
                items=private,
                authorization_id=theirs.id,
            ),  # fine: bank-xm's own
            read(T0 + 3 * MINUTE, uscc=firm(3), items=private),  # none cited
            read(T0 + 4 * MINUTE, uscc=firm(2), items=private, authorization_id=theirs.id),
            read(T0 + 5 * MINUTE, uscc=firm(3), items=private, authorization_id=mine.id),
            read(T0 + 6 * MINUTE, uscc=firm(4), items=[PRIVATE_ITEM], action="verify"),
        ],
    )
    _scan(session, settings, small, catalog)
    [alert] = _alerts(session, RuleCode.unauthorized_reads)
    assert alert.institution_code == BANK
    assert alert.severity is Severity.critical
    assert alert.observed == 4  # none cited, another's, another firm's, a bare verify
    assert alert.counts == {"entries": 4, "enterprises": 3}


def test_public_bulk_counts_distinct_enterprises_under_no_authorization(
    session: Session, settings: Settings, small: AbuseRules, catalog: Catalog
) -> None:
    grant = active_authorization(session, uscc=firm(50))
    log(session, settings, reads(T0, 10, every=MINUTE, distinct=True))
    # bank-xm reads 9 firms publicly, and 20 times the same firm: 9 distinct
    log(session, settings, reads(T0, 9, every=MINUTE, distinct=True, actor="bank-xm"))
    log(session, settings, reads(T0, 20, every=MINUTE, actor="bank-xm"))
    # reads under an authorization are financing use, not a bulk pull
    log(session, settings, reads(T0, 3, every=MINUTE, uscc=firm(50), authorization_id=grant.id))
    _scan(session, settings, small, catalog)
    [alert] = _alerts(session, RuleCode.public_bulk)
    assert (alert.institution_code, alert.observed) == (BANK, 10)
    assert alert.severity is Severity.medium
    china_midnight = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert alert.window_start == china_midnight  # a China-time day
    assert alert.window_end == china_midnight + timedelta(days=1)


def test_off_hours_is_one_night_in_china_time(
    session: Session, settings: Settings, small: AbuseRules, catalog: Catalog
) -> None:
    evening = datetime(2026, 3, 3, 14, 30, tzinfo=UTC)  # 22:30 China time, 3 March
    after_midnight = datetime(2026, 3, 3, 17, 30, tzinfo=UTC)  # 01:30 China time, 4 March
    log(session, settings, reads(evening, 6, every=MINUTE))
    log(session, settings, reads(after_midnight, 6, every=MINUTE))
    # 23:00-23:59 UTC is night in UTC but 07:00 in China: office hours begin
    log(
        session,
        settings,
        reads(datetime(2026, 3, 3, 23, 0, tzinfo=UTC), 12, every=MINUTE, actor="bank-xm"),
    )
    _scan(session, settings, small, catalog)
    [alert] = _alerts(session, RuleCode.off_hours_bulk)
    assert (alert.institution_code, alert.observed) == (BANK, 12)
    assert alert.window_start == datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # 22:00 China time
    assert alert.window_end == datetime(2026, 3, 3, 22, 0, tzinfo=UTC)  # 06:00 China time


def test_a_window_split_across_scans_is_judged_whole(
    session: Session, settings: Settings, small: AbuseRules, catalog: Catalog
) -> None:
    denied = {"outcome": Outcome.denied, "items": [PRIVATE_ITEM]}
    log(session, settings, reads(T0, 3, every=MINUTE, **denied))
    first = service.scan(session, settings=settings, now=NOW, rules=small, catalog=catalog)
    assert first.alerts_created == []
    log(session, settings, reads(T0 + 10 * MINUTE, 3, every=MINUTE, **denied))
    second = service.scan(session, settings=settings, now=NOW, rules=small, catalog=catalog)
    assert second.from_seq == first.to_seq
    [alert] = _alerts(session, RuleCode.refused_reads)
    assert second.alerts_created == [alert.id]
    assert alert.observed == 6
    log(session, settings, reads(T0 + 20 * MINUTE, 2, every=MINUTE, **denied))
    third = service.scan(session, settings=settings, now=NOW, rules=small, catalog=catalog)
    assert third.alerts_updated == [alert.id]
    assert service.get_alert(session, alert_id=alert.id).observed == 8


def test_rescanning_the_same_entries_adds_nothing(
    session: Session, settings: Settings, small: AbuseRules, catalog: Catalog
) -> None:
    denied = {"outcome": Outcome.denied, "items": [PRIVATE_ITEM]}
    log(session, settings, reads(T0, 6, every=MINUTE, **denied))
    log(session, settings, reads(T0, 10, every=MINUTE, distinct=True))
    first = service.scan(session, settings=settings, now=NOW, rules=small, catalog=catalog)
    assert len(first.alerts_created) == 2
    assert service.cursor(session) == first.to_seq
    again = service.scan(session, settings=settings, now=NOW, rules=small, catalog=catalog)
    assert (again.entries_scanned, again.alerts_created) == (0, [])
    rescan = service.scan(
        session, settings=settings, now=NOW, rules=small, catalog=catalog, since=0
    )
    assert rescan.entries_scanned == 16
    assert (rescan.alerts_created, rescan.alerts_updated) == ([], [])
    assert len(_alerts(session)) == 2
    chunked = service.scan(
        session, settings=settings, now=NOW, rules=small, catalog=catalog, since=0, chunk_size=4
    )
    assert chunked.alerts_created == []
    assert {a.observed for a in _alerts(session)} == {6, 10}


def test_other_actors_and_non_read_actions_are_not_monitored(
    session: Session, settings: Settings, small: AbuseRules, catalog: Catalog
) -> None:
    from rongxin.audit.schemas import ActorKind

    denied = {"outcome": Outcome.denied, "items": [PRIVATE_ITEM]}
    log(
        session,
        settings,
        reads(T0, 6, every=MINUTE, actor_kind=ActorKind.provider, actor="samr", **denied),
    )
    log(session, settings, reads(T0, 6, every=MINUTE, action="consent.request", **denied))
    result = service.scan(session, settings=settings, now=NOW, rules=small, catalog=catalog)
    assert result.entries_scanned == 0
    assert result.to_seq > 0  # the cursor still moves past them
    assert _alerts(session) == []


def test_the_shipped_rules_load() -> None:
    rules = load_rules()
    assert rules.version
    assert rules.off_hours_bulk.hours == 8
    assert set(rules.read_actions) >= {"report.json", "verify"}


def test_a_bad_rule_file_names_file_line_and_field(tmp_path: Path) -> None:
    text = (
        Path(__file__)
        .parents[2]
        .joinpath("src/rongxin/data/abuse_rules.yaml")
        .read_text(encoding="utf-8")
    )
    bad = text.replace("  window_hours: 1\n  min_denied: 20", "  window_hours: 5\n  min_denied: 20")
    assert bad != text
    path = tmp_path / "rules.yaml"
    path.write_text(bad, encoding="utf-8")
    line = bad.splitlines().index("  name: 未获授权的访问被拒") + 1  # the rule's first line
    with pytest.raises(RuleFileError) as caught:
        load_rules(path)
    assert caught.value.message.startswith(f"{path}:")
    assert "refused_reads" in caught.value.message
    assert "window_hours must divide 24" in caught.value.message
    problem = caught.value.details["problems"][0]
    assert problem["field"] == "refused_reads"
    assert problem["line"] is not None
    assert problem["line"] == line
    with pytest.raises(RuleFileError, match=r"rules.yaml:\d+: off_hours_bulk.min_reads"):
        parse_rules(text.replace("min_reads: 100", "min_reads: none"), source="rules.yaml")
    with pytest.raises(RuleFileError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")
