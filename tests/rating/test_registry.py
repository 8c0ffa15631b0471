"""The scorecard registry: versions, fingerprint, metrics, reference, four-eyes approval."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from rongxin.errors import InvalidInput
from rongxin.rating import registry
from rongxin.rating.errors import (
    ScorecardExists,
    ScorecardFourEyes,
    ScorecardNotFound,
    ScorecardTransitionError,
)
from rongxin.rating.models import ScorecardModel
from rongxin.rating.schemas import (
    BinCounts,
    Metrics,
    ScoreBands,
    ScorecardReference,
    ScorecardStatus,
)
from rongxin.rating.scorecards import ScorecardSpec

FINGERPRINT = "ab" * 32


def _spec(name: str = "sme-pre-loan", version: str = "1") -> ScorecardSpec:
    return ScorecardSpec.model_validate(
        {
            "name": name,
            "version": version,
            "base_points": 0.5,
            "variables": [
                {
                    "name": "age",
                    "type": "numerical",
                    "bins": [{"upper": 3.5, "points": 10.25}, {"upper": None, "points": 30}],
                    "missing_points": 1,
                },
                {
                    "name": "sector",
                    "type": "categorical",
                    "bins": [{"categories": ["C", "F"], "points": 12}],
                    "other_points": 4,
                    "missing_points": 2,
                },
            ],
        }
    )


METRICS = Metrics(
    auc=0.78,
    ks=0.41,
    gini=0.56,
    rows=300,
    bads=90,
    bad_rate=0.3,
    train_rows=700,
    train_bad_rate=0.3,
)
REFERENCE = ScorecardReference(
    rows=700,
    score=ScoreBands(labels=["low", "high"], counts=[350, 350], uppers=[512.5]),
    variables={
        "age": BinCounts(labels=["[-inf, 3.5)", "[3.5, inf)", "missing"], counts=[200, 450, 50]),
        "sector": BinCounts(labels=["C,F", "missing", "other"], counts=[500, 100, 100]),
    },
)


def test_register_keeps_card_fingerprint_metrics_reference(session: Session) -> None:
    made = registry.register_scorecard(
        session,
        spec=_spec(),
        owner_code="bank-fz",
        created_by="alice",
        fingerprint=FINGERPRINT,
        metrics=METRICS,
        reference=REFERENCE,
    )
    assert made.status is ScorecardStatus.draft
    assert (made.owner_code, made.name, made.version) == ("bank-fz", "sme-pre-loan", "1")
    session.expire_all()  # read back from the database, not the identity map
    got = registry.get_scorecard(session, model_id=made.id)
    assert got.spec == _spec()
    assert got.metrics == METRICS
    assert got.reference == REFERENCE
    assert got.fingerprint == FINGERPRINT
    assert got.created_by == "alice"
    assert got.approved_by is None
    row = session.get(ScorecardModel, made.id)
    assert row is not None
    assert row.spec["variables"][0]["bins"][0] == {"upper": 3.5, "points": 10.25}


def test_approval_needs_a_second_person(session: Session) -> None:
    made = registry.register_scorecard(
        session, spec=_spec(), owner_code="platform", created_by="alice"
    )
    with pytest.raises(ScorecardFourEyes, match="another person must approve"):
        registry.approve_scorecard(session, model_id=made.id, approved_by="alice")
    assert registry.get_scorecard(session, model_id=made.id).status is ScorecardStatus.draft
    approved = registry.approve_scorecard(session, model_id=made.id, approved_by="bob")
    assert approved.status is ScorecardStatus.approved
    assert approved.approved_by == "bob"
    assert approved.approved_at is not None
    with pytest.raises(ScorecardTransitionError, match="only a draft can be approved"):
        registry.approve_scorecard(session, model_id=made.id, approved_by="carol")


def test_retire_and_transitions(session: Session) -> None:
    draft = registry.register_scorecard(
        session, spec=_spec(version="1"), owner_code="platform", created_by="alice"
    )
    retired = registry.retire_scorecard(session, model_id=draft.id)
    assert retired.status is ScorecardStatus.retired
    with pytest.raises(ScorecardTransitionError, match="already retired"):
        registry.retire_scorecard(session, model_id=draft.id)
    with pytest.raises(ScorecardTransitionError, match="is retired; only a draft"):
        registry.approve_scorecard(session, model_id=draft.id, approved_by="bob")


def test_versions_are_unique_per_owner(session: Session) -> None:
    registry.register_scorecard(session, spec=_spec(), owner_code="bank-fz", created_by="a")
    with pytest.raises(ScorecardExists, match="give the new card another version"):
        registry.register_scorecard(session, spec=_spec(), owner_code="bank-fz", created_by="b")
    # another owner may use the same name and version; a new version is a new row
    registry.register_scorecard(session, spec=_spec(), owner_code="bank-xm", created_by="a")
    registry.register_scorecard(
        session, spec=_spec(version="2"), owner_code="bank-fz", created_by="a"
    )
    listed = registry.list_scorecards(session, owner_code="bank-fz")
    assert [(s.name, s.version) for s in listed] == [("sme-pre-loan", "1"), ("sme-pre-loan", "2")]
    assert len(registry.list_scorecards(session, name="sme-pre-loan")) == 3
    assert registry.list_scorecards(session, status=ScorecardStatus.approved) == []


def test_bad_arguments(session: Session) -> None:
    with pytest.raises(ScorecardNotFound, match="no scorecard 'nope'"):
        registry.get_scorecard(session, model_id="nope")
    with pytest.raises(InvalidInput, match="is not 'platform' or an institution code"):
        registry.register_scorecard(session, spec=_spec(), owner_code="Bank FZ", created_by="a")
    with pytest.raises(InvalidInput, match="sha256 in hex"):
        registry.register_scorecard(
            session, spec=_spec(), owner_code="platform", created_by="a", fingerprint="abc"
        )
    with pytest.raises(InvalidInput, match="say who registers"):
        registry.register_scorecard(session, spec=_spec(), owner_code="platform", created_by=" ")
