"""``fetch_interface_records``: report assembly's reader of interface items, over real HTTP."""

from __future__ import annotations

import json
from datetime import date

import pytest
from institution_factories import onboard
from provider_factories import FIRM_A, FIRM_B, endpoint, free_port, grant
from sqlalchemy.orm import Session

from rongxin.access import policy
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind, Purpose
from rongxin.catalog.schemas import Catalog, Item
from rongxin.db.base import utcnow
from rongxin.errors import InvalidInput
from rongxin.providers.client import HttpProviderClient
from rongxin.providers.errors import ProviderUnavailable
from rongxin.providers.schemas import VerifyRequest
from rongxin.providers.service import fetch_interface_records, interface_fetcher, verify_claims

BANK = Principal(kind=PrincipalKind.institution, code="bank-fz")


def _authorized(session: Session, item: Item, uscc: str = FIRM_A) -> policy.Decision:
    """The decision the policy makes under a real view authorization of 2024–2025 data."""
    granted = grant(session, uscc=uscc, items=[item.code], access_mode="view")
    return policy.Decision(
        item_code=item.code,
        allowed=True,
        reason="authorized by the enterprise",
        ground=policy.Ground.authorized,
        authorization=granted,
    )


def test_records_within_the_authorized_range_are_fetched_and_not_kept(
    session: Session, catalog: Catalog, provider_client: HttpProviderClient
) -> None:
    item = catalog.item("tax_payment")
    decision = _authorized(session, item)
    now = utcnow()
    fetched = fetch_interface_records(
        session,
        provider_client,
        principal=BANK,
        uscc=FIRM_A,
        item=item,
        purpose=Purpose.pre_loan,
        decision=decision,
        date_from=date(2025, 6, 1),
        date_to=date(2026, 12, 31),  # narrowed to the authorization's 2025-12-31
        now=now,
    )
    assert fetched.available
    assert fetched.stored is False
    assert fetched.authorization_id == decision.authorization_id
    assert [(r.payload["period"], r.payload["tax_paid"]) for r in fetched.records] == [
        ("2025-06", 2000.29),
        ("2025-12", 30000.61),
    ]
    first = fetched.records[0]
    assert first.event_date == date(2025, 6, 1)
    assert first.record_key == f"{FIRM_A}\x1f2025-06\x1f增值税"
    assert set(first.payload) == {f.name for f in item.fields}
    assert (first.fetched_at, first.provider_code, first.uscc) == (now, "sat", FIRM_A)


def test_without_an_authorization_the_provider_sends_nothing(
    session: Session, catalog: Catalog, provider_client: HttpProviderClient
) -> None:
    """A decision that cites no authorization asks for the subject's key only, and the
    department refuses an uncited call to an item that needs authorization."""
    item = catalog.item("tax_credit_rating")
    public = policy.Decision(item_code=item.code, allowed=True, reason="test",
                             ground=policy.Ground.public)  # fmt: skip
    fetched = fetch_interface_records(
        session,
        provider_client,
        principal=BANK,
        uscc=FIRM_A,
        item=item,
        purpose=Purpose.pre_loan,
        decision=public,
    )
    assert not fetched.available
    assert fetched.unavailable_reason == "refused"
    assert fetched.records == []


def test_an_unavailable_provider_gives_a_clear_unavailable_section(
    session: Session, catalog: Catalog, slow_url: str
) -> None:
    item = catalog.item("tax_payment")
    decision = _authorized(session, item, FIRM_B)
    for client in (
        HttpProviderClient({"sat": endpoint("sat", slow_url, timeout=0.2)}),
        HttpProviderClient({"sat": endpoint("sat", f"http://127.0.0.1:{free_port()}")}),
        HttpProviderClient({}),
    ):
        fetched = fetch_interface_records(
            session,
            client,
            principal=BANK,
            uscc=FIRM_B,
            item=item,
            purpose=Purpose.pre_loan,
            decision=decision,
        )
        client.close()
        assert not fetched.available
        assert fetched.records == []
        assert fetched.unavailable_reason in {"timeout", "unreachable", "not_configured"}
        assert fetched.note == "数据提供单位接口暂时无法访问，本部分暂不可用"
        assert fetched.note_en == "Section temporarily unavailable: the provider did not answer"


def test_a_denied_decision_or_a_non_interface_item_is_refused(
    session: Session, catalog: Catalog, provider_client: HttpProviderClient
) -> None:
    item = catalog.item("tax_payment")
    denied = policy.Decision(item_code=item.code, allowed=False, reason="no authorization")
    with pytest.raises(Forbidden, match="no authorization"):
        fetch_interface_records(session, provider_client, principal=BANK, uscc=FIRM_A, item=item,
                                purpose=Purpose.pre_loan, decision=denied)  # fmt: skip
    estate = catalog.item("real_estate")
    with pytest.raises(InvalidInput) as caught:
        fetch_interface_records(session, provider_client, principal=BANK, uscc=FIRM_A,
                                item=estate, purpose=Purpose.pre_loan,
                                decision=_authorized(session, estate))  # fmt: skip
    assert caught.value.details["field"] == "item"


def test_the_fetcher_for_read_records_gives_record_views_or_none(
    session: Session, catalog: Catalog, provider_client: HttpProviderClient
) -> None:
    item = catalog.item("tax_credit_rating")
    decision = _authorized(session, item)
    fetch = interface_fetcher(
        session, provider_client, principal=BANK, uscc=FIRM_A, purpose=Purpose.pre_loan
    )
    views = fetch(item, decision)
    assert views is not None
    assert [(v.payload["rating_year"], v.payload["grade"]) for v in views] == [(2024, "A")]
    assert views[0].event_date == date(2025, 4, 20)  # the 2026 rating is outside 2024–2025
    assert (views[0].change_seq, views[0].batch_id, views[0].provider_code) == (0, None, "sat")
    down = interface_fetcher(
        session, HttpProviderClient({}), principal=BANK, uscc=FIRM_A, purpose=Purpose.pre_loan
    )
    assert down(item, decision) is None


def test_outcomes_that_do_not_match_the_claims_are_not_the_protocol(
    session: Session,
    catalog: Catalog,
    scripted_url: tuple[str, list[tuple[int, bytes]]],
) -> None:
    onboard(session, BANK.code)  # approved for the financing purposes, with a quota
    _authorized(session, catalog.item("tax_payment"))  # the real policy finds this grant
    url, script = scripted_url
    answer = {
        "item": "tax_payment", "uscc": FIRM_A, "provider": "sat",
        "answered_at": utcnow().isoformat(),
        "results": [{"index": 0, "field": "tax_type", "op": "eq", "aggregate": "any",
                     "outcome": "match", "value": 1000.37}],
    }  # fmt: skip
    script.append((200, json.dumps(answer).encode()))
    client = HttpProviderClient({"sat": endpoint("sat", url)})
    request = VerifyRequest.model_validate(
        {"uscc": FIRM_A, "item": "tax_payment", "purpose": "pre_loan",
         "claims": [{"field": "tax_paid", "op": "eq", "value": 1}]}
    )  # fmt: skip
    with pytest.raises(ProviderUnavailable) as caught:
        verify_claims(session, client, catalog=catalog, principal=BANK, request=request)
    assert caught.value.details["reason"] == "bad_response"
    answer["results"][0]["field"] = "tax_paid"  # type: ignore[index]
    script.append((200, json.dumps(answer).encode()))
    verified = verify_claims(session, client, catalog=catalog, principal=BANK, request=request)
    client.close()
    assert [r.outcome.value for r in verified.results] == ["match"]
    assert "1000.37" not in verified.model_dump_json()  # an extra "value" is dropped
