"""Rating pages (信用评价, issue 5): an entity's portrait and the full-coverage runs.

``/entities/{uscc}/rating`` shows the platform's rating of an entity (精准画像): score and grade,
data depth, a veto if one caps the grade, the score's history across runs (an ECharts line,
static/js/rating-chart.js), where the entity stands among its peers, the indicator sheet by
dimension, the main reasons and what would raise the rating. It follows the JSON API's rules
(:mod:`rongxin.rating.api`): the access policy decides (:func:`rongxin.access.policy.
check_rating_view`: an institution for a financing purpose it is approved for, the enterprise
for its own as ``self_query``, staff), every view is an access-log entry ``rating.view`` and
every refusal is logged as denied.

``/ratings/runs`` (operator, regulator) lists the runs with their grade distributions;
``/ratings/runs/{run_id}`` shows one run's grade counts and the grade changes it found.
Pages call services, never the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from rongxin.access import policy
from rongxin.access.schemas import Principal, PrincipalKind, Purpose
from rongxin.audit import service as audit_service
from rongxin.audit import writer as audit_writer
from rongxin.audit.schemas import AccessEvent, ActorKind, Outcome
from rongxin.db.group_commit import GroupCommitWriter
from rongxin.deps import GroupCommitDep, SessionDep, SettingsDep
from rongxin.entities import service as entities_service
from rongxin.errors import Forbidden, RongxinError
from rongxin.institutions import service as institutions_service
from rongxin.rating import service as rating_service
from rongxin.rating.errors import RatingNotFound
from rongxin.rating.indicators import load_system
from rongxin.rating.schemas import RatingPortrait, RatingRunRead
from rongxin.web import i18n
from rongxin.web.auth import StaffPrincipal, WebPrincipal, require_web_principal
from rongxin.web.pages import VIEWER_PURPOSES, PageRoute, error_page
from rongxin.web.rendering import locale_of, no_store, render, settings_of

RUNS_SHOWN: Final = 50
CHANGES_SHOWN: Final = 500
HISTORY_CHART_ID: Final = "rating-history"
RUNS_CHART_ID: Final = "rating-runs"
RUN_CHART_ID: Final = "rating-run-grades"

#: the purposes the portrait page offers each kind of viewer, default first (the policy decides)
RATING_PURPOSES: Final[dict[PrincipalKind, tuple[Purpose, ...]]] = {
    **VIEWER_PURPOSES,
    PrincipalKind.enterprise: (Purpose.self_query,),
}

rating_router = APIRouter(include_in_schema=False, route_class=PageRoute)

SignedIn = Annotated[WebPrincipal, Depends(require_web_principal(*PrincipalKind))]


# ---- who looks, for what ------------------------------------------------------------------------


def purpose_choices(session: Session, web: WebPrincipal) -> tuple[Purpose, ...]:
    """The purposes the page offers ``web`` (an institution: those it is approved for)."""
    offered = RATING_PURPOSES.get(web.kind, ())
    if web.kind is PrincipalKind.institution:
        approved = institutions_service.allowed_purposes(session, web.code)
        offered = tuple(p for p in offered if p in approved) or offered
    return offered


def _check_view(
    request: Request,
    session: Session,
    writer: GroupCommitWriter,
    *,
    principal: Principal,
    uscc: str,
    purpose: Purpose,
) -> None:
    """The access policy's decision. A refusal is logged in its own committed batch, as the
    API does (rongxin.rating.api), and re-raised: the route answers with the 403 page."""
    try:
        policy.check_rating_view(session, principal=principal, uscc=uscc, purpose=purpose)
    except Forbidden as exc:
        session.commit()  # release SQLite's write lock (sign-in stamps) before the writer runs
        denied = audit_writer.denial(
            principal, action="rating.view", uscc=uscc, purpose=purpose, reason=exc.message
        )
        audit_writer.record_denial_sync(writer, denied, settings=settings_of(request))
        raise


def _log_view(
    request: Request,
    session: Session,
    principal: Principal,
    found: RatingPortrait,
    purpose: Purpose,
) -> None:
    event = AccessEvent(
        action="rating.view",
        actor_kind=ActorKind(principal.kind.value),
        actor_code=principal.code,
        user_id=principal.user_id,
        uscc=found.uscc,
        purpose=purpose,
        outcome=Outcome.allowed,
        detail=f"rating run {found.run_id} (web page)",
    )
    audit_service.append(session, [event], settings=settings_of(request))


# ---- presenting a portrait ----------------------------------------------------------------------


def value_text(value: str | float | None, locale: str) -> str:
    """An indicator's value: whole numbers without decimals, others with two; text as it is
    (a size class by its name); ``—`` when the entity has no such data."""
    if value is None or value == "":
        return i18n.EMPTY
    if isinstance(value, str):
        return i18n.translate_value(locale, "size_class", value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _entity_name(session: Session, uscc: str) -> str | None:
    try:
        return entities_service.get_entity(session, uscc=uscc).name
    except RongxinError:  # not registered on this node (or a mistyped code)
        return None


def _peer_group(found: RatingPortrait, locale: str) -> list[str]:
    """The peer group's parts (province, industry section, size class) in ``locale``."""
    codes = [*found.peers.group.split("|"), "", "", ""][:3]
    size = i18n.translate(locale, f"size_class.{codes[2]}") if codes[2] else None
    parts = [found.peers.province, found.peers.industry_section, size]
    return [p for p in parts if p]


def _reasons(found: RatingPortrait, locale: str) -> list[str]:
    """The reasons (indicator codes, the worst first) by the indicators' names."""
    lines = {line.code: line for dim in found.dimensions for line in dim.indicators}
    return [
        i18n.localized(lines[code], "name", locale) if code in lines else code
        for code in found.reasons
    ]


def _depth_name(found: RatingPortrait, locale: str) -> str:
    """The data-depth level's name in ``locale`` (the indicator system names it in both)."""
    for level in load_system().data_depth:
        if level.level == found.data_depth:
            return i18n.localized(level, "name", locale)
    return found.data_depth_name or found.data_depth


def _history_chart(found: RatingPortrait, locale: str) -> dict[str, Any]:
    """What static/js/rating-chart.js draws (embedded as a JSON block, never executed)."""
    return {
        "charts": [
            {
                "id": HISTORY_CHART_ID,
                "kind": "line",
                "categories": [i18n.cn_date(p.as_of, locale) for p in found.history],
                "series": [
                    {
                        "name": i18n.translate(locale, "rating.score"),
                        "data": [p.score for p in found.history],
                        "labels": [p.grade for p in found.history],
                    }
                ],
                "max": found.scale,
                "axis": i18n.translate(locale, "rating.score_axis"),
            }
        ]
    }


def _refused(request: Request, exc: Forbidden) -> Response:
    """The 403 page: who may see ratings, and the policy's reason (logged as denied)."""
    locale = locale_of(request)
    return error_page(
        request,
        status=exc.status,
        headline=i18n.translate(locale, "rating.forbidden_title"),
        message=i18n.translate(locale, "rating.forbidden"),
        details={"reason": exc.message},
    )


def _not_rated(request: Request, uscc: str, entity_name: str | None) -> Response:
    locale = locale_of(request)
    return error_page(
        request,
        status=404,
        headline=i18n.translate(locale, "rating.not_rated_title"),
        message=i18n.translate(locale, "rating.not_rated", name=entity_name or uscc),
        details={"reason": i18n.translate(locale, "rating.not_rated_why")},
        back=(f"/entities/{uscc}", "rating.back_entity"),
    )


@rating_router.get("/entities/{uscc}/rating", name="entity_rating")
def entity_rating(
    request: Request,
    uscc: str,
    web: SignedIn,
    session: SessionDep,
    settings: SettingsDep,
    writer: GroupCommitDep,
    purpose: Annotated[
        Purpose | None, Query(description="Why the rating is looked at (Z2).")
    ] = None,
) -> Response:
    code = uscc.strip().upper()
    principal = web.principal
    choices = purpose_choices(session, web)
    chosen = purpose or (choices[0] if choices else Purpose.public_inquiry)
    offered = choices if chosen in choices else (*choices, chosen)
    try:
        _check_view(request, session, writer, principal=principal, uscc=code, purpose=chosen)
    except Forbidden as exc:
        return no_store(_refused(request, exc))
    entity_name = _entity_name(session, code)
    try:
        found = rating_service.portrait(session, uscc=code, settings=settings)
    except RatingNotFound:
        return no_store(_not_rated(request, code, entity_name))
    _log_view(request, session, principal, found, chosen)
    locale = locale_of(request)
    context: dict[str, Any] = {
        "found": found,
        "entity_name": entity_name,
        "purpose": chosen.value,
        "purpose_choices": [p.value for p in offered] if len(offered) > 1 else [],
        "peer_group": _peer_group(found, locale),
        "reasons": _reasons(found, locale),
        "depth_name": _depth_name(found, locale),
        "value_text": lambda value: value_text(value, locale),
        "chart_data": _history_chart(found, locale),
        "chart_id": HISTORY_CHART_ID,
    }
    return no_store(render(request, "rating/portrait.html", context))


# ---- runs ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GradeBar:
    """One grade's share of a run, as a bar of an inline SVG (attributes only: CSP-safe)."""

    grade: str
    count: int
    x: float  # 0–100
    width: float  # 0–100
    tone: int  # 0 best … 4 worst, for the colour


def grade_order(runs: list[RatingRunRead]) -> list[str]:
    """Grades best first: the indicator system's order, then any other grade a run used."""
    known = [g.grade for g in load_system().grades]
    seen = {g for r in runs for g in (r.grade_counts or {})}
    return [g for g in known if g in seen] + sorted(seen - set(known))


def grade_bars(run: RatingRunRead, order: list[str]) -> list[GradeBar]:
    counts = run.grade_counts or {}
    total = sum(counts.values())
    bars: list[GradeBar] = []
    x = 0.0
    for index, grade in enumerate(order):
        n = counts.get(grade, 0)
        if not n or not total:
            continue
        width = round(100 * n / total, 3)
        tone = min(4, index * 5 // max(len(order), 1))
        bars.append(GradeBar(grade, n, round(x, 3), width, tone))
        x += width
    return bars


def _runs_chart(runs: list[RatingRunRead], order: list[str], locale: str) -> dict[str, Any]:
    shown = list(reversed(runs))  # oldest first, left to right
    return {
        "charts": [
            {
                "id": RUNS_CHART_ID,
                "kind": "stacked",
                "categories": [i18n.cn_date(r.as_of, locale) for r in shown],
                "series": [
                    {"name": g, "data": [(r.grade_counts or {}).get(g, 0) for r in shown]}
                    for g in order
                ],
                "axis": i18n.translate(locale, "rating.entities_axis"),
            }
        ]
    }


@rating_router.get("/ratings/runs", name="rating_runs")
def rating_runs(request: Request, principal: StaffPrincipal, session: SessionDep) -> Response:
    runs = rating_service.list_runs(session, limit=RUNS_SHOWN)
    order = grade_order(runs)
    context: dict[str, Any] = {
        "runs": runs,
        "order": order,
        "bars": {r.id: grade_bars(r, order) for r in runs},
        "chart_data": _runs_chart(runs, order, locale_of(request)),
        "chart_id": RUNS_CHART_ID,
    }
    return no_store(render(request, "rating/runs.html", context))


@rating_router.get("/ratings/runs/{run_id}", name="rating_run")
def rating_run(
    request: Request, run_id: str, principal: StaffPrincipal, session: SessionDep
) -> Response:
    run = rating_service.get_run(session, run_id=run_id)
    changes = rating_service.run_changes(session, run_id=run_id, limit=CHANGES_SHOWN + 1)
    order = grade_order([run])
    counts = run.grade_counts or {}
    chart = {
        "charts": [
            {
                "id": RUN_CHART_ID,
                "kind": "bar",
                "categories": order,
                "series": [
                    {
                        "name": i18n.translate(locale_of(request), "rating.col_count"),
                        "data": [counts.get(g, 0) for g in order],
                    }
                ],
                "axis": i18n.translate(locale_of(request), "rating.entities_axis"),
            }
        ]
    }
    context: dict[str, Any] = {
        "run": run,
        "order": order,
        "bars": grade_bars(run, order),
        "changes": changes[:CHANGES_SHOWN],
        "more_changes": len(changes) > CHANGES_SHOWN,
        "changes_shown": CHANGES_SHOWN,
        "chart_data": chart,
        "chart_id": RUN_CHART_ID,
    }
    return no_store(render(request, "rating/run.html", context))
