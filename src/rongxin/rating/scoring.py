"""Institutions' own scorecards on platform data (E2, 精准画像; V4 可用不可见).

An institution registers a portable scorecard whose variables are rating features
(``data/rating_features.yaml``), the operator approves it, and the institution runs it for
entities it may read about: public information, and what each entity's active authorization
for the purpose covers. The records never leave the platform — the answer is a score and the
reason codes per entity — and every scoring is logged per entity with the items it used and
the authorization it rested on.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

import polars as pl
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from rongxin.access import policy
from rongxin.access.schemas import Principal, Purpose
from rongxin.audit import service as audit_service
from rongxin.audit.schemas import AccessEvent, ActorKind, Outcome
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.db.base import utcnow
from rongxin.entities import service as entities_service
from rongxin.errors import Conflict, InvalidInput
from rongxin.rating import engines, registry
from rongxin.rating.errors import ScorecardNotFound
from rongxin.rating.features import FeatureSet, feature_table, load_features
from rongxin.rating.schemas import ScorecardRead, ScorecardStatus
from rongxin.rating.scorecard_scoring import SCORE_COLUMN, reason_column, scored_table
from rongxin.rating.scorecards import ScorecardSpec

USCC_FORM: Final = re.compile(r"[0-9A-Z]{18}")
MAX_ENTITIES: Final = 1000  # per request; a portfolio is scored in pages
REASONS: Final = 3


class EntityScore(BaseModel):
    uscc: str
    score: float | None  # None when the entity is not in the registry
    reasons: list[str]  # the variables that lost most points, worst first
    items_used: list[str]  # the catalog items whose records the score rests on
    authorization_ids: list[str]  # the authorizations those reads rested on


class ScoringResult(BaseModel):
    scorecard_id: str
    name: str
    version: str
    purpose: Purpose
    as_of: date
    scores: list[EntityScore]


class ScoringRequest(BaseModel):
    usccs: list[str] = Field(min_length=1, max_length=MAX_ENTITIES)
    purpose: Purpose
    as_of: date | None = Field(None, description="default: today (China time)")


def check_variables(spec: ScorecardSpec, features: FeatureSet) -> FeatureSet:
    """The features the scorecard's variables name (the variables of a scorecard run on
    platform data must be rating features); InvalidInput naming the first unknown one."""
    known = set(features.codes)
    for n, variable in enumerate(spec.variables):
        if variable.name not in known:
            raise InvalidInput(
                f"variable {variable.name!r} is not a rating feature; a scorecard run on "
                "platform data uses the features of rating_features.yaml "
                f"(`rongxin rating features`), e.g. {', '.join(features.codes[:4])}",
                field=f"variables.{n}.name",
            )
    return features.select(v.name for v in spec.variables)


def owned_card(session: Session, *, principal: Principal, model_id: str) -> ScorecardRead:
    """The principal's own scorecard (another institution's is not found)."""
    card = registry.get_scorecard(session, model_id=model_id)
    if card.owner_code != principal.code:
        raise ScorecardNotFound(f"no scorecard {model_id!r} of {principal.code}")
    return card


def score_entities(
    session: Session,
    *,
    principal: Principal,
    model_id: str,
    usccs: list[str],
    purpose: Purpose,
    catalog: Catalog,
    settings: Settings,
    as_of: date | None = None,
    features: FeatureSet | None = None,
) -> ScoringResult:
    """Run the institution's approved scorecard for ``usccs`` on what it may read (see the
    module doc); logs one ``scorecard.score`` entry per entity."""
    card = owned_card(session, principal=principal, model_id=model_id)
    if card.status is not ScorecardStatus.approved:
        raise Conflict(
            f"scorecard {card.name} {card.version} is {card.status.value}; the platform operator "
            "approves a scorecard before it runs on platform data",
            status_code=card.status.value,
        )
    usccs = list(dict.fromkeys(u.strip().upper() for u in usccs))
    if len(usccs) > MAX_ENTITIES:
        raise InvalidInput(f"at most {MAX_ENTITIES} entities per request", field="usccs")
    for n, code in enumerate(usccs):
        if not USCC_FORM.fullmatch(code):
            raise InvalidInput(
                f"usccs[{n}] {code!r} is not an 18-character 统一社会信用代码", field=f"usccs.{n}"
            )
    as_of = as_of or utcnow().date()
    used = check_variables(card.spec, features or load_features(settings.rating_features_path))
    items = [catalog.item(code) for code in used.items()]
    records, reads = policy.scoring_records(
        session,
        principal=principal,
        usccs=usccs,
        items=items,
        purpose=purpose,
        fields=used.fields(),
    )
    entities = entities_service.registry_frame(session, usccs=usccs)
    visible = pl.DataFrame(
        [
            (uscc, read.item.code)
            for uscc, entity_reads in reads.items()
            for read in entity_reads
            if read.decision.allowed and not read.unavailable
        ],
        schema={"uscc": pl.String, "item_code": pl.String},
        orient="row",
    )
    con = engines.connect(engines.Engine.duckdb)
    try:
        table = feature_table(
            used,
            records=engines.load(con, "scoring_records", records.to_arrow()),
            registry=engines.load(con, "scoring_registry", entities.to_arrow()),
            visible=engines.load(con, "scoring_visible", visible.to_arrow()),
            as_of=as_of,
        )
        out = engines.collect(con, scored_table(card.spec, table, keep=["uscc"], reasons=REASONS))
    finally:
        con.disconnect()
    found = {row["uscc"]: row for row in out.to_pylist()}
    scores: list[EntityScore] = []
    events: list[AccessEvent] = []
    for uscc in usccs:
        entity_reads = reads.get(uscc, [])
        with_records = [r for r in entity_reads if r.decision.allowed and r.records]
        grants = sorted(
            {r.decision.authorization_id for r in with_records if r.decision.authorization_id}
        )
        row = found.get(uscc)
        score = EntityScore(
            uscc=uscc,
            score=row[SCORE_COLUMN] if row is not None else None,
            reasons=[
                row[reason_column(k)]
                for k in range(1, REASONS + 1)
                if row is not None and row[reason_column(k)]
            ],
            items_used=sorted(r.item.code for r in with_records),
            authorization_ids=grants,
        )
        scores.append(score)
        events.append(
            AccessEvent(
                action="scorecard.score",
                actor_kind=ActorKind(principal.kind.value),
                actor_code=principal.code or "anonymous",
                user_id=principal.user_id,
                uscc=uscc,
                items=score.items_used,
                purpose=purpose,
                authorization_id=grants[0] if len(grants) == 1 else None,
                outcome=Outcome.allowed,
                detail=f"scorecard {card.id} ({card.name} {card.version})"
                + (f"; authorizations {', '.join(grants)}" if len(grants) > 1 else ""),
            )
        )
    audit_service.append(session, events, settings=settings)
    return ScoringResult(
        scorecard_id=card.id,
        name=card.name,
        version=card.version,
        purpose=purpose,
        as_of=as_of,
        scores=scores,
    )
