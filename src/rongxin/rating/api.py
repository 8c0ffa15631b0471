"""Rating routes: portraits (画像) for those who may see them, and the full-coverage runs for
staff. Every portrait read is logged, and so is every refusal."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from rongxin import errors
from rongxin.access import policy
from rongxin.access.deps import (
    CurrentPrincipal,
    InstitutionOnlyPrincipal,
    InstitutionPrincipal,
    OperatorPrincipal,
)
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind, Purpose
from rongxin.audit import service as audit_service
from rongxin.audit import writer as audit_writer
from rongxin.audit.schemas import AccessEvent, ActorKind, Outcome
from rongxin.deps import CatalogDep, GroupCommitDep, SessionDep, SettingsDep
from rongxin.rating import batch, registry, scoring, service
from rongxin.rating.engines import Engine
from rongxin.rating.errors import ScorecardNotFound
from rongxin.rating.features import load_features
from rongxin.rating.schemas import PLATFORM_OWNER, RatingPortrait, RatingRunRead, ScorecardRead
from rongxin.rating.scorecards import ScorecardSpec

router = APIRouter(prefix="/ratings", tags=["ratings"])
scorecard_router = APIRouter(prefix="/scorecards", tags=["scorecards"])


def _staff(principal: CurrentPrincipal) -> None:
    if principal.kind not in (PrincipalKind.operator, PrincipalKind.regulator):
        raise Forbidden("rating runs are for operator or regulator credentials")


class RunRequest(BaseModel):
    as_of: date = Field(description="Rate as of this date (records up to it count).")
    engine: Engine = Engine.duckdb


@router.get("/runs", response_model=list[RatingRunRead])
def list_runs(
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[RatingRunRead]:
    """Full-coverage rating runs, newest first."""
    _staff(principal)
    return service.list_runs(session, limit=limit)


@router.post("/runs", response_model=RatingRunRead, status_code=201)
def start_run(
    body: RunRequest,
    principal: OperatorPrincipal,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
) -> RatingRunRead:
    """Rate every entity now (synchronously; a national node runs `rongxin rating run`)."""
    run = batch.run_rating(
        session,
        catalog=catalog,
        as_of=body.as_of,
        engine=body.engine,
        triggered_by=f"operator:{principal.code}",
        settings=settings,
    )
    return RatingRunRead.model_validate(run)


@router.get("/runs/{run_id}", response_model=RatingRunRead)
def get_run(run_id: str, principal: CurrentPrincipal, session: SessionDep) -> RatingRunRead:
    _staff(principal)
    return service.get_run(session, run_id=run_id)


class RatingChangeRead(BaseModel):
    uscc: str
    previous_grade: str
    grade: str
    previous_score: float
    score: float


@router.get("/runs/{run_id}/changes", response_model=list[RatingChangeRead])
def get_run_changes(
    run_id: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[RatingChangeRead]:
    """The grade changes a run found against the run before it (for monitoring)."""
    _staff(principal)
    return [RatingChangeRead(**c) for c in service.run_changes(session, run_id=run_id, limit=limit)]


@router.get("/{uscc}", response_model=RatingPortrait)
def get_portrait(
    uscc: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    writer: GroupCommitDep,
    purpose: Annotated[Purpose, Query(description="Why the rating is looked at (Z2).")],
) -> RatingPortrait:
    """An entity's rating portrait: score and grade, the indicator sheet, history, standing
    among peers and what would raise it. Logged as ``rating.view``."""
    try:
        policy.check_rating_view(session, principal=principal, uscc=uscc, purpose=purpose)
    except errors.Forbidden as exc:
        session.commit()
        denied = audit_writer.denial(
            principal, action="rating.view", uscc=uscc, purpose=purpose, reason=exc.message
        )
        audit_writer.record_denial_sync(writer, denied, settings=settings)
        raise
    found = service.portrait(session, uscc=uscc, settings=settings)
    event = AccessEvent(
        action="rating.view",
        actor_kind=ActorKind(principal.kind.value),
        actor_code=principal.code or "anonymous",
        user_id=principal.user_id,
        uscc=uscc,
        purpose=purpose,
        outcome=Outcome.allowed,
        detail=f"rating run {found.run_id}",
    )
    audit_service.append(session, [event], settings=settings)
    return found


# ---- scorecards (E2): institutions' own, run on platform data --------------------------------


def _owner(principal: Principal) -> str:
    if principal.kind is PrincipalKind.institution:
        return principal.code
    if principal.kind is PrincipalKind.operator:
        return PLATFORM_OWNER
    raise Forbidden("scorecards are registered by institutions (their own) or the operator")


def _actor(principal: Principal) -> str:
    who = f"{principal.kind.value}:{principal.code}"
    return f"{who}:{principal.user_id}" if principal.user_id else who


def _visible(principal: Principal, card: ScorecardRead) -> ScorecardRead:
    staff = principal.kind in (PrincipalKind.operator, PrincipalKind.regulator)
    if not staff and card.owner_code != principal.code:
        raise ScorecardNotFound(f"no scorecard {card.id!r} of {principal.code}")
    return card


@scorecard_router.post("", response_model=ScorecardRead, status_code=201)
def register(
    spec: ScorecardSpec,
    principal: InstitutionPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> ScorecardRead:
    """Register a portable scorecard as a draft: an institution's own (its variables must be
    rating features to run on platform data), or the platform's (operator)."""
    owner = _owner(principal)
    if owner != PLATFORM_OWNER:
        scoring.check_variables(spec, load_features(settings.rating_features_path))
    return registry.register_scorecard(
        session, spec=spec, owner_code=owner, created_by=_actor(principal)
    )


@scorecard_router.get("", response_model=list[ScorecardRead])
def list_scorecards(principal: CurrentPrincipal, session: SessionDep) -> list[ScorecardRead]:
    """An institution's own scorecards; every scorecard for operator and regulator."""
    if principal.kind in (PrincipalKind.operator, PrincipalKind.regulator):
        return registry.list_scorecards(session)
    if principal.kind is not PrincipalKind.institution:
        raise Forbidden("scorecards are for institution, operator or regulator credentials")
    return registry.list_scorecards(session, owner_code=principal.code)


@scorecard_router.get("/{model_id}", response_model=ScorecardRead)
def get_scorecard(model_id: str, principal: CurrentPrincipal, session: SessionDep) -> ScorecardRead:
    if principal.kind not in (
        PrincipalKind.institution,
        PrincipalKind.operator,
        PrincipalKind.regulator,
    ):
        raise Forbidden("scorecards are for institution, operator or regulator credentials")
    return _visible(principal, registry.get_scorecard(session, model_id=model_id))


@scorecard_router.post("/{model_id}/approve", response_model=ScorecardRead)
def approve(model_id: str, principal: OperatorPrincipal, session: SessionDep) -> ScorecardRead:
    """The operator approves a scorecard before it runs on platform data (model governance;
    not the person who registered it)."""
    return registry.approve_scorecard(session, model_id=model_id, approved_by=_actor(principal))


@scorecard_router.post("/{model_id}/retire", response_model=ScorecardRead)
def retire(model_id: str, principal: CurrentPrincipal, session: SessionDep) -> ScorecardRead:
    """Take a scorecard out of use: its owner institution, or the operator."""
    if principal.kind is PrincipalKind.institution:
        scoring.owned_card(session, principal=principal, model_id=model_id)
    elif principal.kind is not PrincipalKind.operator:
        raise Forbidden("a scorecard is retired by its institution or the operator")
    return registry.retire_scorecard(session, model_id=model_id)


@scorecard_router.post("/{model_id}/score", response_model=scoring.ScoringResult)
def score(
    model_id: str,
    body: scoring.ScoringRequest,
    principal: InstitutionOnlyPrincipal,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
) -> scoring.ScoringResult:
    """Run the institution's approved scorecard on platform data for entities it may read
    about (public information; authorized items under each entity's active authorization for
    the purpose). Only scores and reason codes come back; each entity's scoring is logged."""
    return scoring.score_entities(
        session,
        principal=principal,
        model_id=model_id,
        usccs=body.usccs,
        purpose=body.purpose,
        as_of=body.as_of,
        catalog=catalog,
        settings=settings,
    )
