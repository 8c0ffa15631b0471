"""The access-log routes per role: staff see everything, an enterprise its own history, a
provider the use of its items; institutions and anonymous callers are refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from audit_factories import T0, USCC_A, USCC_B, make_event
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from rongxin.access.schemas import PrincipalKind
from rongxin.audit import service
from rongxin.config import Settings

Headers = Callable[[PrincipalKind, str], dict[str, str]]
ENTRIES = "/api/v1/audit/entries"
VERIFY = "/api/v1/audit/verify"


@pytest.fixture
def seeded(session: Session, settings: Settings) -> None:
    """Four entries: two about USCC_A (tax + registration), one about USCC_B (court data), one
    about USCC_A with social-insurance data only."""
    service.append(
        session,
        [
            make_event(occurred_at=T0),
            make_event(actor_code="bank_x", occurred_at=T0 + timedelta(hours=1)),
            make_event(uscc=USCC_B, items=["court_judgment"], occurred_at=T0 + timedelta(hours=2)),
            make_event(items=["social_insurance"], occurred_at=T0 + timedelta(hours=3)),
        ],
        settings=settings,
    )


def _seqs(body: dict[str, object]) -> list[int]:
    items = body["items"]
    assert isinstance(items, list)
    return [e["seq"] for e in items]


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("kind", [PrincipalKind.operator, PrincipalKind.regulator])
def test_staff_see_the_whole_log_and_verify_it(
    client: TestClient, headers: Headers, kind: PrincipalKind
) -> None:
    auth = headers(kind, "staff")
    body = client.get(ENTRIES, headers=auth).json()
    assert _seqs(body) == [4, 3, 2, 1]
    assert body["items"][-1]["user_id"] == "u-1001"  # staff see the acting person's id
    page = client.get(ENTRIES, params={"limit": 2}, headers=auth).json()
    assert (_seqs(page), page["next_cursor"]) == ([4, 3], 3)
    rest = client.get(ENTRIES, params={"limit": 2, "cursor": 3}, headers=auth).json()
    assert (_seqs(rest), rest["next_cursor"]) == ([2, 1], None)
    assert _seqs(client.get(ENTRIES, params={"uscc": USCC_B}, headers=auth).json()) == [3]
    assert _seqs(client.get(ENTRIES, params={"actor": "bank_x"}, headers=auth).json()) == [2]
    verified = client.get(VERIFY, headers=auth)
    assert verified.status_code == 200
    assert verified.json()["intact"] is True
    assert verified.json()["entries_checked"] == 4


@pytest.mark.usefixtures("seeded")
def test_verify_over_http_names_the_first_bad_entry(
    client: TestClient, headers: Headers, session: Session
) -> None:
    session.execute(text("UPDATE audit_entry SET purpose = 'in_loan' WHERE seq = 2"))
    body = client.get(VERIFY, headers=headers(PrincipalKind.regulator, "pboc")).json()
    assert body["intact"] is False
    assert body["problem"]["seq"] == 2
    assert body["problem"]["kind"] == "altered"


@pytest.mark.usefixtures("seeded")
def test_an_enterprise_sees_only_its_own_history(client: TestClient, headers: Headers) -> None:
    auth = headers(PrincipalKind.enterprise, USCC_A)
    body = client.get(ENTRIES, headers=auth).json()
    assert _seqs(body) == [4, 2, 1]
    first = body["items"][-1]
    assert (first["actor_code"], first["purpose_name"], first["authorization_id"]) == (
        "bank_fz_001",
        "贷前审查",
        "auth-0001",
    )
    assert first["items"] == ["registration", "tax_payment"]
    assert first["user_id"] is None  # the bank's staff member is not shown outside the platform
    assert _seqs(client.get(ENTRIES, params={"uscc": USCC_A}, headers=auth).json()) == [4, 2, 1]
    other = client.get(ENTRIES, params={"uscc": USCC_B}, headers=auth)
    assert other.status_code == 403
    assert "its own USCC" in other.json()["message"]
    assert client.get(VERIFY, headers=auth).status_code == 403


@pytest.mark.usefixtures("seeded")
def test_a_provider_sees_only_the_use_of_its_items(client: TestClient, headers: Headers) -> None:
    auth = headers(PrincipalKind.provider, "sat")
    body = client.get(ENTRIES, headers=auth).json()
    assert _seqs(body) == [2, 1]
    assert all(e["items"] == ["tax_payment"] for e in body["items"])  # not samr's registration
    assert all(e["user_id"] is None for e in body["items"])
    assert _seqs(client.get(ENTRIES, params={"provider": "sat"}, headers=auth).json()) == [2, 1]
    assert client.get(ENTRIES, params={"provider": "spc"}, headers=auth).status_code == 403
    assert client.get(VERIFY, headers=auth).status_code == 403
    court = headers(PrincipalKind.provider, "spc")
    assert _seqs(client.get(ENTRIES, headers=court).json()) == [3]


@pytest.mark.usefixtures("seeded")
def test_staff_filter_by_provider(client: TestClient, headers: Headers) -> None:
    auth = headers(PrincipalKind.operator, "ops")
    assert _seqs(client.get(ENTRIES, params={"provider": "mohrss"}, headers=auth).json()) == [4]
    unknown = client.get(ENTRIES, params={"provider": "nobody"}, headers=auth)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "unknown_provider"


@pytest.mark.parametrize("path", [ENTRIES, VERIFY])
def test_institutions_and_anonymous_callers_are_refused(
    client: TestClient, headers: Headers, path: str
) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer rx_bad_key"}).status_code == 401
    refused = client.get(path, headers=headers(PrincipalKind.institution, "bank_fz_001"))
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 501}, "query.limit"),
        ({"cursor": 0}, "query.cursor"),
        ({"uscc": "short"}, "query.uscc"),
        ({"since": "2026-01-01T00:00:00"}, "since"),
    ],
)
def test_bad_queries_name_the_field(
    client: TestClient, headers: Headers, params: dict[str, object], field: str
) -> None:
    response = client.get(ENTRIES, params=params, headers=headers(PrincipalKind.operator, "ops"))
    assert response.status_code == 422
    details = response.json()["details"]
    # request validation lists every failing field; a domain error names its one field
    named = [d["field"] for d in details] if isinstance(details, list) else [details["field"]]
    assert named == [field]
