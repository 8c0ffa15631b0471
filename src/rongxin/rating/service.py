"""Ratings and portraits (精准画像): an entity's latest rating with its indicator sheet, its
history across runs, where it stands among its peers, and what would raise it."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from rongxin.config import Settings
from rongxin.entities import reference
from rongxin.rating.errors import RatingNotFound, RatingRunNotFound
from rongxin.rating.features import FeatureSet, load_features
from rongxin.rating.indicators import SCALE, IndicatorSystem, Veto, load_system
from rongxin.rating.models import EntityRating, RatingChange, RatingRun
from rongxin.rating.schemas import (
    DimensionLine,
    Improvement,
    IndicatorLine,
    LatestRating,
    PeerStanding,
    RatingPoint,
    RatingPortrait,
    RatingRunRead,
    VetoRead,
)

HISTORY_LIMIT = 24
IMPROVEMENTS = 3


# ---- runs ---------------------------------------------------------------------------------------


def list_runs(session: Session, *, limit: int = 50) -> list[RatingRunRead]:
    stmt = select(RatingRun).order_by(RatingRun.started_at.desc()).limit(limit)
    return [RatingRunRead.model_validate(r) for r in session.scalars(stmt)]


def get_run(session: Session, *, run_id: str) -> RatingRunRead:
    run = session.get(RatingRun, run_id)
    if run is None:
        raise RatingRunNotFound(
            f"no rating run {run_id!r}; `rongxin rating runs` lists them", run_id=run_id
        )
    return RatingRunRead.model_validate(run)


def run_changes(session: Session, *, run_id: str, limit: int = 1000) -> list[dict[str, Any]]:
    """The grade changes a run found against the one before it."""
    get_run(session, run_id=run_id)
    stmt = (
        select(RatingChange)
        .where(RatingChange.run_id == run_id)
        .order_by(RatingChange.uscc)
        .limit(limit)
    )
    return [
        {
            "uscc": c.uscc,
            "previous_grade": c.previous_grade,
            "grade": c.grade,
            "previous_score": c.previous_score,
            "score": c.score,
        }
        for c in session.scalars(stmt)
    ]


# ---- the latest rating --------------------------------------------------------------------------

# built once: every credit report reads it
_LATEST = (
    select(
        EntityRating.run_id,
        RatingRun.as_of,
        EntityRating.score,
        EntityRating.grade,
        RatingRun.system_code,
        RatingRun.system_version,
    )
    .join(RatingRun, RatingRun.id == EntityRating.run_id)
    .where(EntityRating.uscc == bindparam("uscc"), RatingRun.status == "completed")
    .order_by(RatingRun.started_at.desc())
    .limit(1)
)


def latest_rating(session: Session, *, uscc: str) -> LatestRating | None:
    """The latest completed rating of ``uscc`` (``None`` before its first run): one indexed
    read, for the summary of its credit report."""
    row = session.connection().execute(_LATEST, {"uscc": uscc}).one_or_none()
    return LatestRating.model_validate(row._asdict()) if row is not None else None


# ---- portraits ----------------------------------------------------------------------------------


def _history(session: Session, uscc: str) -> list[tuple[EntityRating, RatingRun]]:
    stmt = (
        select(EntityRating, RatingRun)
        .join(RatingRun, RatingRun.id == EntityRating.run_id)
        .where(EntityRating.uscc == uscc, RatingRun.status == "completed")
        .order_by(RatingRun.started_at.desc())
        .limit(HISTORY_LIMIT)
    )
    return [(r, run) for r, run in session.execute(stmt)]


def portrait(
    session: Session,
    *,
    uscc: str,
    settings: Settings | None = None,
    system: IndicatorSystem | None = None,
    features: FeatureSet | None = None,
) -> RatingPortrait:
    """The latest rating of ``uscc`` with its sheet, peers, history and improvements. The
    indicator system and features are the node's (``settings``: the operator's files, as the
    batch run uses them), else the shipped ones, unless given."""
    rows = _history(session, uscc)
    if not rows:
        raise RatingNotFound(
            f"entity {uscc} has no rating yet; ratings come from the platform's batch run "
            "(`rongxin rating run`)",
            uscc=uscc,
        )
    system = system or load_system(settings.indicator_system_path if settings else None)
    features = features or load_features(settings.rating_features_path if settings else None)
    latest, run = rows[0]
    same_system = run.system_code == system.code and run.system_version == system.version
    dimensions: list[DimensionLine] = []
    improvements: list[Improvement] = []
    if same_system and run.features_version == features.version:
        dimensions, improvements = _sheet(system, system.used_features(features), latest.sheet)
    grade_names = {g.grade: (g.name, g.name_en or None) for g in system.grades}
    depth_names = {d.level: d.name for d in system.data_depth}
    veto = next((v for v in system.vetoes if v.code == latest.veto), None)
    if veto is not None:
        improvements = [_lift_veto(system, veto), *improvements][:IMPROVEMENTS]
    province, section, size = [*latest.peer_group.split("|"), None, None, None][:3]
    return RatingPortrait(
        uscc=uscc,
        run_id=run.id,
        as_of=run.as_of,
        system_code=run.system_code,
        system_version=run.system_version,
        score=latest.score,
        grade=latest.grade,
        grade_name=grade_names.get(latest.grade, (None, None))[0],
        grade_name_en=grade_names.get(latest.grade, (None, None))[1],
        data_sources=latest.data_sources,
        data_depth=latest.data_depth,
        data_depth_name=depth_names.get(latest.data_depth),
        veto=VetoRead(
            code=veto.code, name=veto.name, name_en=veto.name_en, cap_grade=veto.cap_grade
        )
        if veto is not None
        else None,
        reasons=[r for r in latest.reasons.split(",") if r],
        peers=PeerStanding(
            group=latest.peer_group,
            province=_province_name(province),
            industry_section=reference.industry_sections().get(section or "", section),
            size_class=reference.SIZE_CLASS_NAMES.get(size or "", size),
            percentile=latest.percentile,
        ),
        dimensions=dimensions,
        improvements=improvements,
        history=[
            RatingPoint(run_id=r.run_id, as_of=rr.as_of, score=r.score, grade=r.grade)
            for r, rr in reversed(rows)
        ],
    )


def _province_name(code: str | None) -> str | None:
    if not code:
        return None
    found = reference.region(code + "0000")
    return found.name if found is not None else code


def _sheet(
    system: IndicatorSystem, features: FeatureSet, sheet: dict[str, Any] | str
) -> tuple[list[DimensionLine], list[Improvement]]:
    data = json.loads(sheet) if isinstance(sheet, str) else sheet
    values = dict(zip(features.codes, data["v"], strict=True))
    points = dict(zip([i.code for i in system.indicators], data["p"], strict=True))
    coeff, divisor = system.coefficients()
    dimensions = []
    losses: list[Improvement] = []
    for dim in system.dimensions:
        lines = []
        for ind in dim.indicators:
            feature = features.get(ind.feature)
            raw = values[ind.feature]
            value: str | float | None = float(raw) if raw is not None and feature.numeric else raw
            lost = coeff[ind.code] * (ind.max_points - points[ind.code]) * SCALE / divisor
            lines.append(
                IndicatorLine(
                    code=ind.code,
                    name=feature.name,
                    name_en=feature.name_en,
                    value=value,
                    points=points[ind.code],
                    max_points=ind.max_points,
                    weight=ind.weight,
                    lost=round(lost, 2),
                )
            )
            if lost > 0:
                losses.append(
                    Improvement(
                        kind="indicator",
                        code=ind.code,
                        name=feature.name,
                        name_en=feature.name_en,
                        gain=round(lost, 2),
                        advice=ind.advice,
                        advice_en=ind.advice_en,
                    )
                )
        mean = sum(line.points * line.weight for line in lines) / dim.indicator_weight
        dimensions.append(
            DimensionLine(
                code=dim.code,
                name=dim.name,
                name_en=dim.name_en,
                weight=dim.weight,
                score=round(mean, 2),
                indicators=lines,
            )
        )
    order = {i.code: n for n, i in enumerate(system.indicators)}
    losses.sort(key=lambda imp: (-imp.gain, order[imp.code]))
    return dimensions, losses[:IMPROVEMENTS]


def _lift_veto(system: IndicatorSystem, veto: Veto) -> Improvement:
    """The improvement of lifting ``veto``: the advice of the indicator on the same feature."""
    advice = next((i for i in system.indicators if i.feature == veto.feature), None)
    return Improvement(
        kind="veto",
        code=veto.code,
        name=veto.name,
        name_en=veto.name_en,
        gain=0.0,
        advice=advice.advice if advice is not None else f"消除“{veto.name}”情形",
        advice_en=advice.advice_en if advice is not None else f"Remove the cause: {veto.name_en}",
    )
