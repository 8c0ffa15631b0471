"""Enterprise real-name registration (M3): verified / not verified, never the recorded values;
clear field errors; rate limits per USCC and per client; nothing personal in the logs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import structlog
from access_helpers import PASSWORD, T0, make_id_number
from entity_factories import make_uscc
from fastapi.testclient import TestClient
from record_factories import create_record
from sqlalchemy.orm import Session

from rongxin.access import registration, users
from rongxin.access.errors import TooManyAttempts
from rongxin.access.schemas import PrincipalKind, RegistrationRequest, RegistrationResult
from rongxin.catalog import service as catalog_service
from rongxin.config import Settings
from rongxin.errors import Conflict, InvalidInput

REP_NAME = "林晓梅"
REP_ID = make_id_number("350102", "19800214", "123")
URL = "/api/v1/enterprises/register"
CATALOG = catalog_service.load_catalog()


def _registered(session: Session, *, seed: int = 11, **payload: Any) -> str:
    uscc = make_uscc(seed=seed)
    body = {
        "name": "福州榕信测试科技有限公司",
        "legal_rep_name": REP_NAME,
        "legal_rep_id_number": REP_ID,
    }
    create_record(session, item_code="registration", uscc=uscc, payload=body | payload)
    return uscc


def _claim(uscc: str, **overrides: str) -> RegistrationRequest:
    values = {
        "uscc": uscc,
        "legal_rep_name": REP_NAME,
        "legal_rep_id_number": REP_ID,
        "username": f"rep-{uscc[-6:].lower()}",
        "password": PASSWORD,
    } | overrides
    return RegistrationRequest(**values)


def _register(
    session: Session,
    settings: Settings,
    claim: RegistrationRequest,
    *,
    client: str = "203.0.113.7",
    now: datetime = T0,
) -> RegistrationResult:
    outcome = registration.register_enterprise(
        session, settings=settings, catalog=CATALOG, claim=claim, client=client, now=now
    )
    return outcome.result


# ---- the check ----------------------------------------------------------------------------------


def test_matching_claim_is_verified_and_creates_the_enterprise_account(
    session: Session, settings: Settings
) -> None:
    uscc = _registered(session)
    outcome = registration.register_enterprise(
        session,
        settings=settings,
        catalog=CATALOG,
        claim=_claim(uscc, display_name="林总"),
        client="c",
        now=T0,
    )
    assert outcome.result is RegistrationResult.verified
    assert outcome.user is not None
    assert outcome.user.principal_kind is PrincipalKind.enterprise
    assert outcome.user.principal_code == uscc
    assert outcome.user.display_name == "林总"
    principal = users.login(
        session, settings=settings, username=outcome.user.username, password=PASSWORD, now=T0
    )
    assert (principal.kind, principal.code) == (PrincipalKind.enterprise, uscc)


def test_claims_are_compared_after_normalizing_what_people_type(
    session: Session, settings: Settings
) -> None:
    rep_x = make_id_number("110105", "19491231", "002")
    assert rep_x.endswith("X")
    uscc = _registered(session, legal_rep_id_number=rep_x, legal_rep_name="阿依古丽·买买提")
    claim = _claim(
        uscc.lower(),
        legal_rep_name=" 阿依古丽・买买提 ",  # another middle dot, blanks
        legal_rep_id_number=rep_x[:-1].translate(
            str.maketrans("0123456789", "０１２３４５６７８９")
        )
        + "x",  # full-width digits, lower-case x
    )
    assert _register(session, settings, claim) is RegistrationResult.verified


@pytest.mark.parametrize(
    "overrides",
    [
        {"legal_rep_name": "林晓"},
        {"legal_rep_id_number": make_id_number("350102", "19800214", "125")},
        {"legal_rep_name": "张三", "legal_rep_id_number": make_id_number("110105", "19700101")},
    ],
    ids=["wrong-name", "wrong-id", "both-wrong"],
)
def test_mismatch_is_not_verified_and_creates_nothing(
    session: Session, settings: Settings, overrides: dict[str, str]
) -> None:
    uscc = _registered(session)
    claim = _claim(uscc, **overrides)
    outcome = registration.register_enterprise(
        session, settings=settings, catalog=CATALOG, claim=claim, client="c", now=T0
    )
    assert outcome.result is RegistrationResult.not_verified
    assert outcome.user is None
    assert REP_NAME not in outcome.model_dump_json()
    assert REP_ID not in outcome.model_dump_json()
    assert not users.username_taken(session, username=claim.username)


def test_no_registration_record_is_a_clear_404(session: Session, settings: Settings) -> None:
    uscc = make_uscc(seed=99)
    with pytest.raises(registration.RegistrationRecordMissing, match="no registration record") as e:
        _register(session, settings, _claim(uscc))
    assert e.value.status == 404
    # a record without the legal representative's ID number cannot be verified either
    partial = _registered(session, seed=12, legal_rep_id_number="")
    with pytest.raises(registration.RegistrationRecordMissing):
        _register(session, settings, _claim(partial))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("35010219800214123", "must be 18 characters, not 17"),
        ("3501021980021412A3", "must be digits"),
        ("350102198002301233", "not a real birth date"),
        (REP_ID[:-1] + ("0" if REP_ID[-1] != "0" else "1"), "check character"),
    ],
)
def test_malformed_id_number_names_the_field_and_never_the_value(
    session: Session, settings: Settings, value: str, reason: str
) -> None:
    uscc = _registered(session)
    with pytest.raises(InvalidInput, match=reason) as caught:
        _register(session, settings, _claim(uscc, legal_rep_id_number=value))
    assert caught.value.details["field"] == "legal_rep_id_number"
    assert caught.value.message.startswith("legal_rep_id_number:")
    assert value not in caught.value.message


def test_scalar_id_check_agrees_with_ingestion(settings: Settings) -> None:
    """The registration check and ingestion's vectorized check accept the same numbers."""
    import polars as pl

    from rongxin.ingest.validation import id_number_mask

    samples = [
        REP_ID,
        make_id_number("110105", "19491231", "002"),
        REP_ID[:-1] + "0",
        "350102198002301233",
        "35010219800214123",
        "11010519491231002x",
        "ABCDEFGHIJKLMNOPQR",
    ]
    vectorized = id_number_mask(pl.Series(samples)).to_list()
    scalar = [registration.id_number_problem(s) is None for s in samples]
    assert scalar == vectorized


def test_other_bad_fields_are_named(session: Session, settings: Settings) -> None:
    uscc = _registered(session)
    cases = {
        "uscc": _claim(uscc[:-1] + ("0" if uscc[-1] != "0" else "1")),
        "legal_rep_name": _claim(uscc, legal_rep_name="   "),
        "username": _claim(uscc, username="x"),
        "password": _claim(uscc, password="short"),
    }
    for field, claim in cases.items():
        with pytest.raises(InvalidInput) as caught:
            _register(session, settings, claim)
        assert caught.value.details["field"] == field, field


def test_taken_username_is_a_conflict_and_costs_no_attempt(
    session: Session, settings: Settings
) -> None:
    uscc = _registered(session)
    assert _register(session, settings, _claim(uscc, username="rep-one")) is (
        RegistrationResult.verified
    )
    limited = settings.model_copy(update={"login_max_failures": 1})
    with pytest.raises(Conflict):
        _register(session, limited, _claim(uscc, username="rep-one", legal_rep_name="错"))
    assert _register(session, limited, _claim(uscc, username="rep-two")) is (
        RegistrationResult.verified
    )


# ---- rate limits --------------------------------------------------------------------------------


def test_a_uscc_is_locked_after_n_failures_from_any_clients_then_unlocked(
    session: Session, settings: Settings
) -> None:
    uscc = _registered(session)
    for attempt in range(settings.login_max_failures):
        wrong = _claim(uscc, legal_rep_name=f"错{attempt}")
        assert _register(session, settings, wrong, client=f"10.0.0.{attempt}") is (
            RegistrationResult.not_verified
        )
    with pytest.raises(TooManyAttempts) as caught:  # even the right claim, from a new client
        _register(session, settings, _claim(uscc), client="10.9.9.9")
    assert caught.value.status == 429
    minutes = settings.login_lockout_minutes
    assert caught.value.headers == {"Retry-After": str(minutes * 60 + 1)}
    later = T0 + timedelta(minutes=minutes)
    assert _register(session, settings, _claim(uscc), client="10.9.9.9", now=later) is (
        RegistrationResult.verified
    )


def test_a_client_is_locked_after_n_failures_across_usccs(
    session: Session, settings: Settings
) -> None:
    codes = [_registered(session, seed=20 + n) for n in range(settings.login_max_failures + 1)]
    for uscc in codes[:-1]:
        assert _register(session, settings, _claim(uscc, legal_rep_name="错")) is (
            RegistrationResult.not_verified
        )
    with pytest.raises(TooManyAttempts):
        _register(session, settings, _claim(codes[-1]))
    # another client may still register that enterprise
    assert _register(session, settings, _claim(codes[-1]), client="198.51.100.1") is (
        RegistrationResult.verified
    )


def test_client_addresses_are_not_stored_in_the_clear(session: Session, settings: Settings) -> None:
    from sqlalchemy import select

    from rongxin.access.models import AccessThrottle

    uscc = _registered(session)
    _register(session, settings, _claim(uscc, legal_rep_name="错"), client="192.0.2.44")
    subjects = session.scalars(select(AccessThrottle.subject)).all()
    assert f"registration:uscc:{uscc}" in subjects
    assert not any("192.0.2.44" in s for s in subjects)
    assert any(s.startswith("registration:client:") for s in subjects)


# ---- over HTTP ----------------------------------------------------------------------------------


def test_api_verified_not_verified_and_errors(client: TestClient, session: Session) -> None:
    uscc = _registered(session)
    claim = _claim(uscc).model_dump()
    wrong = client.post(URL, json=claim | {"legal_rep_name": "林晓"})
    assert wrong.status_code == 200
    assert wrong.json()["result"] == "not_verified"
    assert wrong.json()["user"] is None
    ok = client.post(URL, json=claim)
    assert ok.status_code == 201, ok.text
    assert ok.json()["result"] == "verified"
    assert ok.json()["user"]["principal_code"] == uscc
    for r in (wrong, ok):
        assert REP_NAME not in r.text
        assert REP_ID not in r.text
    bad = client.post(URL, json=claim | {"legal_rep_id_number": "123", "username": "other1"})
    assert bad.status_code == 422
    assert bad.json()["details"]["field"] == "legal_rep_id_number"
    assert "legal_rep_id_number" in bad.json()["message"]
    missing = client.post(URL, json={k: v for k, v in claim.items() if k != "legal_rep_name"})
    assert missing.status_code == 422
    assert missing.json()["details"][0]["field"] == "body.legal_rep_name"
    nothing = client.post(URL, json=_claim(make_uscc(seed=98)).model_dump())
    assert nothing.status_code == 404
    assert nothing.json()["error"] == "registration_record_missing"


def test_nothing_personal_is_logged(client: TestClient, session: Session) -> None:
    uscc = _registered(session)
    claim = _claim(uscc).model_dump()
    wrong_name, wrong_id = "林晓", make_id_number("350102", "19800214", "125")
    with structlog.testing.capture_logs() as events:
        client.post(URL, json=claim | {"legal_rep_name": wrong_name})
        client.post(URL, json=claim | {"legal_rep_id_number": wrong_id})
        client.post(URL, json=claim | {"legal_rep_id_number": "35010219800214123X"})
        client.post(URL, json=claim)
    text = repr(events)
    assert "enterprise_registration" in text  # the attempts were logged …
    assert uscc in text
    for secret in (REP_NAME, REP_ID, wrong_name, wrong_id, "35010219800214123X", PASSWORD):
        assert secret not in text  # … without the claim
    assert REP_NAME not in repr(_claim(uscc))
