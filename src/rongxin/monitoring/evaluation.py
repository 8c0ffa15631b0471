"""The abuse rules as pure columnar transforms (Polars): access-log frames in, alert
candidates out. No I/O here; :mod:`rongxin.monitoring.scanning` reads and writes.

Windows are counted in China time (UTC+8) and aligned to its midnight; an alert's window is
stored in UTC. A window is evaluated only when the batch being scanned touched it, and then
over *all* its entries (the scanner loads them), so a window split across two scans is judged
whole, and the same entries scanned twice give the same candidates.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Final

import polars as pl

from rongxin.monitoring.rules import AbuseRules, OffHoursBulk, RuleCode, VolumeSpike

CHINA_OFFSET: Final = timedelta(hours=8)
SAMPLES: Final = 20
#: "report r; authorizations a, b": a report shown under several authorizations
_CITED: Final = r"authorizations ([0-9A-Za-z_.:\-]+(?:, [0-9A-Za-z_.:\-]+)*)"

#: the columns of an alert candidate
CANDIDATE_SCHEMA: Final = pl.Schema(
    {
        "rule_code": pl.String(),
        "institution_code": pl.String(),
        "window_start": pl.Datetime("us", "UTC"),
        "window_end": pl.Datetime("us", "UTC"),
        "observed": pl.Int64(),
        "threshold": pl.Float64(),
        "baseline": pl.Float64(),
        "entries": pl.Int64(),
        "enterprises": pl.Int64(),
        "first_seq": pl.Int64(),
        "last_seq": pl.Int64(),
        "sample_seqs": pl.List(pl.Int64()),
    }
)


def window_start(at: pl.Expr, hours: int) -> pl.Expr:
    """The start (UTC) of the ``hours``-long China-time window holding ``at``."""
    return (at + CHINA_OFFSET).dt.truncate(f"{hours}h") - CHINA_OFFSET


def night_start(at: pl.Expr, rule: OffHoursBulk) -> pl.Expr:
    """The start (UTC) of the night holding ``at``, or null when ``at`` is not in a night."""
    shifted = at + CHINA_OFFSET - timedelta(hours=rule.start_hour)
    day = shifted.dt.truncate("1d")
    inside = (shifted - day) < timedelta(hours=rule.hours)
    start = day + timedelta(hours=rule.start_hour) - CHINA_OFFSET
    return pl.when(inside).then(start).otherwise(None)


def cited_authorizations() -> pl.Expr:
    """The authorizations an entry cites: its ``authorization_id``, or those its detail lists
    (a report shown under several)."""
    listed = (
        pl.col("detail")
        .str.extract(_CITED, 1)
        .str.split(", ")
        .fill_null(pl.lit([], pl.List(pl.String())))
    )
    return (
        pl.when(pl.col("authorization_id").is_not_null())
        .then(pl.concat_list(pl.col("authorization_id")))
        .otherwise(listed)
    )


def prepare(frame: pl.DataFrame, *, non_public_items: Collection[str]) -> pl.DataFrame:
    """Flags per entry: ``read`` (allowed), ``denied``, ``non_public`` (touched an item that is
    not publicly disclosable), ``cited`` (authorization ids) and ``authorized`` (cites any)."""
    items = pl.col("items").str.json_decode(pl.List(pl.String()))
    return frame.with_columns(
        read=pl.col("outcome") == "allowed",
        denied=pl.col("outcome") == "denied",
        non_public=items.list.eval(pl.element().is_in(list(non_public_items))).list.any(),
        cited=cited_authorizations(),
    ).with_columns(authorized=pl.col("cited").list.len() > 0)


def cited_ids(frame: pl.DataFrame) -> list[str]:
    """Authorization ids cited by reads of non-public items (the ones to check)."""
    rows = frame.filter(pl.col("read") & pl.col("non_public"))
    return rows.select(pl.col("cited").explode().drop_nulls().unique().sort()).to_series().to_list()


def with_grant_check(frame: pl.DataFrame, grants: pl.DataFrame) -> pl.DataFrame:
    """Adds ``unauthorized``: an allowed read of non-public items that cites no authorization,
    or one that is unknown, another institution's, about another enterprise, or without a
    loan application reference. ``grants``: authorization_id, institution_code, uscc,
    has_loan_ref."""
    checked = (
        frame.select("seq", "actor_code", "uscc", pl.col("cited").alias("authorization_id"))
        .explode("authorization_id")
        .drop_nulls("authorization_id")
        .join(
            grants.rename({"institution_code": "actor_code"}),
            on=["authorization_id", "actor_code", "uscc"],
            how="left",
        )
        .group_by("seq")
        .agg(grant_ok=pl.col("has_loan_ref").fill_null(False).all())
    )
    return (
        frame.join(checked, on="seq", how="left")
        .with_columns(pl.col("grant_ok").fill_null(False))
        .with_columns(unauthorized=pl.col("read") & pl.col("non_public") & ~pl.col("grant_ok"))
    )


def _evidence(observed: pl.Expr) -> list[pl.Expr]:
    return [
        observed.alias("observed"),
        pl.len().alias("entries"),
        pl.col("uscc").drop_nulls().n_unique().alias("enterprises"),
        pl.col("seq").min().alias("first_seq"),
        pl.col("seq").max().alias("last_seq"),
        pl.col("seq").sort().head(SAMPLES).alias("sample_seqs"),
    ]


def _finish(
    agg: pl.DataFrame, rule: RuleCode, *, length: timedelta, threshold: pl.Expr
) -> pl.DataFrame:
    out = agg.with_columns(
        rule_code=pl.lit(rule.value),
        window_end=pl.col("window_start") + length,
        threshold=threshold.cast(pl.Float64()),
        baseline=pl.col("baseline") if "baseline" in agg.columns else pl.lit(None, pl.Float64()),
    ).rename({"actor_code": "institution_code"})
    return out.select([pl.col(name).cast(dtype) for name, dtype in CANDIDATE_SCHEMA.items()])


def _touched(batch: pl.DataFrame, key: pl.Expr) -> pl.DataFrame:
    return batch.select("actor_code", key.alias("window_start")).drop_nulls().unique()


def windowed_count(
    frame: pl.DataFrame,
    batch: pl.DataFrame,
    *,
    rule: RuleCode,
    flag: str,
    hours: int,
    least: int,
    distinct_uscc: bool = False,
) -> pl.DataFrame:
    """Windows (touched by ``batch``) where the entries flagged ``flag`` reach ``least`` (or,
    with ``distinct_uscc``, where they are about at least ``least`` distinct enterprises)."""
    start = window_start(pl.col("occurred_at"), hours)
    rows = frame.filter(pl.col(flag)).with_columns(window_start=start)
    if distinct_uscc:
        rows = rows.filter(pl.col("uscc").is_not_null())
    observed = pl.col("uscc").n_unique() if distinct_uscc else pl.len()
    agg = (
        rows.join(_touched(batch, start), on=["actor_code", "window_start"], how="semi")
        .group_by("actor_code", "window_start")
        .agg(_evidence(observed))
        .filter(pl.col("observed") >= least)
    )
    return _finish(agg, rule, length=timedelta(hours=hours), threshold=pl.lit(least))


def off_hours(frame: pl.DataFrame, batch: pl.DataFrame, rule: OffHoursBulk) -> pl.DataFrame:
    """Nights (touched by ``batch``) with at least ``min_reads`` reads."""
    start = night_start(pl.col("occurred_at"), rule)
    rows = frame.filter(pl.col("read")).with_columns(window_start=start).drop_nulls("window_start")
    agg = (
        rows.join(_touched(batch, start), on=["actor_code", "window_start"], how="semi")
        .group_by("actor_code", "window_start")
        .agg(_evidence(pl.len()))
        .filter(pl.col("observed") >= rule.min_reads)
    )
    return _finish(
        agg,
        RuleCode.off_hours_bulk,
        length=timedelta(hours=rule.hours),
        threshold=pl.lit(rule.min_reads),
    )


def hourly(frame: pl.DataFrame, batch: pl.DataFrame) -> pl.DataFrame:
    """Reads and refusals per institution per hour, for the hours ``batch`` touched."""
    hour = pl.col("occurred_at").dt.truncate("1h")
    return (
        frame.with_columns(hour_start=hour)
        .join(
            batch.select("actor_code", hour.alias("hour_start")).unique(),
            on=["actor_code", "hour_start"],
            how="semi",
        )
        .group_by("actor_code", "hour_start")
        .agg(
            reads=pl.col("read").sum().cast(pl.Int64()),
            denied=pl.col("denied").sum().cast(pl.Int64()),
        )
        .rename({"actor_code": "institution_code"})
        .sort("institution_code", "hour_start")
    )


def spike_candidates(frame: pl.DataFrame, batch: pl.DataFrame, rule: VolumeSpike) -> pl.DataFrame:
    """Touched windows with at least ``min_reads`` reads: the volume-spike rule's candidates,
    before the baseline is compared (:func:`volume_spike`)."""
    return windowed_count(
        frame,
        batch,
        rule=RuleCode.volume_spike,
        flag="read",
        hours=rule.window_hours,
        least=rule.min_reads,
    )


def volume_spike(
    candidates: pl.DataFrame, history: pl.DataFrame, rule: VolumeSpike
) -> pl.DataFrame:
    """Candidates whose reads exceed ``multiplier`` × the trailing mean reads per window over
    ``baseline_days`` before the window. ``history``: institution_code, hour_start, reads."""
    windows = rule.baseline_days * 24 // rule.window_hours
    span = timedelta(days=rule.baseline_days)
    trailing = (
        candidates.select("institution_code", "window_start")
        .join(history, on="institution_code", how="inner")
        .filter(
            (pl.col("hour_start") >= pl.col("window_start") - span)
            & (pl.col("hour_start") < pl.col("window_start"))
        )
        .group_by("institution_code", "window_start")
        .agg(total=pl.col("reads").sum())
    )
    return (
        candidates.drop("baseline", "threshold")
        .join(trailing, on=["institution_code", "window_start"], how="left")
        .with_columns(baseline=pl.col("total").fill_null(0).cast(pl.Float64()) / windows)
        .with_columns(
            threshold=pl.max_horizontal(
                pl.col("baseline") * rule.multiplier, pl.lit(float(rule.min_reads))
            )
        )
        .filter(pl.col("observed") > pl.col("baseline") * rule.multiplier)
        .select(list(CANDIDATE_SCHEMA))
    )


def load_ranges(batch: pl.DataFrame, rules: AbuseRules) -> list[tuple[object, object]]:
    """The time ranges (UTC, [start, end)) to load so that every window ``batch`` touches is
    complete: the union of each entry's windows under every rule, merged."""
    at = pl.col("occurred_at")
    spans: list[pl.DataFrame] = []
    for hours in {
        1,
        rules.volume_spike.window_hours,
        rules.refused_reads.window_hours,
        rules.unauthorized_reads.window_hours,
        rules.public_bulk.window_hours,
    }:
        start = window_start(at, hours)
        spans.append(batch.select(start=start, end=start + timedelta(hours=hours)))
    night = night_start(at, rules.off_hours_bulk)
    spans.append(
        batch.select(
            start=night, end=night + timedelta(hours=rules.off_hours_bulk.hours)
        ).drop_nulls()
    )
    merged = (
        pl.concat(spans)
        .unique()
        .sort("start")
        .with_columns(
            group=(pl.col("start") > pl.col("end").cum_max().shift(1)).fill_null(True).cum_sum()
        )
        .group_by("group")
        .agg(start=pl.col("start").min(), end=pl.col("end").max())
        .sort("start")
    )
    return list(merged.select("start", "end").iter_rows())
