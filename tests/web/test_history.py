"""The enterprise's access history (/history) and a provider's usage page
(/providers/{code}/usage): who read what, when, why and under which authorization."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from console_helpers import BANK, BANK_NAME, Login, grant, seed_firm
from entity_factories import make_uscc
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from rongxin.audit import service as audit_service
from rongxin.audit.schemas import AccessEvent, ActorKind, Outcome


@pytest.fixture
def firm(session: Session) -> str:
    return seed_firm(session)


def _read(uscc: str, *, at: datetime, user_id: str | None = None, n: int = 0) -> AccessEvent:
    return AccessEvent(
        action="report.json",
        actor_kind=ActorKind.institution,
        actor_code=BANK,
        user_id=user_id,
        uscc=uscc,
        items=["admin_penalty", "registration"],
        purpose="pre_loan",
        outcome=Outcome.allowed,
        detail=f"read {n}",
        occurred_at=at,
    )


# ---- who may open it ----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(secure_client: TestClient) -> None:
    response = secure_client.get("/history", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/history"


def test_an_institution_cannot_open_the_history(login: Login) -> None:
    response = login("institution", BANK).get("/history")
    assert response.status_code == 403
    assert "市场主体" in response.text  # names who may open it
    assert "Traceback" not in response.text


# ---- the enterprise's history -------------------------------------------------------------------


def test_the_enterprise_sees_who_read_its_data_and_nothing_else(
    login: Login, session: Session, firm: str
) -> None:
    granted = grant(session, firm, ["electricity"])
    other = make_uscc(seed=7201)
    moment = datetime(2026, 11, 27, 6, 5, tzinfo=UTC)  # 14:05 China time
    audit_service.append(
        session,
        [
            _read(firm, at=moment, user_id="staff-zhang-0001"),
            _read(other, at=moment + timedelta(minutes=1)),
        ],
    )
    bank = login("institution", BANK)
    assert bank.get(f"/entities/{firm}/report").status_code == 200  # an authorized read

    page = login("enterprise", firm).get("/history")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert "<h1>谁查看了本企业的信息</h1>" in html
    assert BANK_NAME in html  # the institution, by name
    assert "2026年11月27日 14:05" in html  # China time
    assert "贷前审查" in html  # the purpose's Chinese name
    assert "行政处罚" in html  # item names from the catalog
    assert "接口查询信用报告" in html
    assert "在线查看信用报告" in html
    assert f'href="/consent/authorizations/{granted.id}"' in html
    assert "用电缴费" in html  # the item read under the authorization
    assert "staff-zhang-0001" not in html  # the person's id is never shown
    assert other not in html  # another enterprise's reads are not here
    assert 'href="/history" aria-current="page"' in html  # the navigation entry
    # the authorization's state changes, next to the reads
    assert "授权状态变更" in html
    assert "同意授权" in html
    assert 'href="/consent"' in html


def test_history_pages_with_a_keyset_cursor(login: Login, session: Session) -> None:
    uscc = make_uscc(seed=7202)
    start = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    audit_service.append(
        session, [_read(uscc, at=start + timedelta(minutes=i), n=i) for i in range(25)]
    )
    client = login("enterprise", uscc)
    first = client.get("/history").text
    assert first.count('<th scope="row" data-label="时间（北京时间）">') == 20
    assert "2026年1月5日 10:24" in first  # newest first
    assert "2026年1月5日 10:04" not in first
    cursor = first.split('href="/history?cursor=')[1].split('"')[0]
    second = client.get("/history", params={"cursor": cursor}).text
    assert second.count('<th scope="row" data-label="时间（北京时间）">') == 5
    assert "2026年1月5日 10:04" in second
    assert "2026年1月5日 10:24" not in second
    assert 'href="/history">最新记录' in second
    assert 'rel="next"' not in second  # nothing older

    bad = client.get("/history", params={"cursor": 0})
    assert bad.status_code == 422
    assert "cursor" in bad.text


def test_an_empty_history_says_so(login: Login) -> None:
    html = login("enterprise", make_uscc(seed=7203)).get("/history").text
    assert "暂无访问记录" in html
    assert "暂无授权变更" in html


def test_the_history_is_in_english_too(login: Login, session: Session, firm: str) -> None:
    audit_service.append(session, [_read(firm, at=datetime(2026, 11, 27, 6, 5, tzinfo=UTC))])
    html = login("enterprise", firm).get("/history", params={"lang": "en"}).text
    assert "Who looked at your information" in html
    assert "2026-11-27 14:05" in html
    assert "Pre-loan" in html or "pre-loan" in html.lower()


# ---- provider usage -----------------------------------------------------------------------------


def test_a_provider_sees_how_its_data_is_used(login: Login, session: Session, firm: str) -> None:
    granted = grant(session, firm, ["electricity"])
    assert login("institution", BANK).get(f"/entities/{firm}/report").status_code == 200

    client = login("provider", "power_grid")
    page = client.get("/providers/power_grid/usage")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert "数据使用情况" in html
    assert 'href="/providers/power_grid/usage" aria-current="page"' in html
    usage_table = html[html.index("usage-table") : html.index("accesses-heading")]
    assert "用电缴费" in usage_table
    assert "贷前审查" in usage_table  # a column per purpose used
    accesses = html[html.index("accesses-heading") :]
    assert BANK_NAME in accesses
    assert granted.id in accesses
    assert "行政处罚" not in accesses  # only the provider's own items are listed

    other = client.get("/providers/samr/usage")
    assert other.status_code == 404  # another provider's usage does not exist for it


@pytest.mark.parametrize(
    ("kind", "code", "status"), [("operator", "ops", 200), ("regulator", "pbc", 200)]
)
def test_staff_see_any_providers_usage(login: Login, kind: str, code: str, status: int) -> None:
    response = login(kind, code).get("/providers/power_grid/usage")
    assert response.status_code == status
    assert "用电缴费" in response.text


def test_usage_is_not_for_institutions_or_anonymous(
    login: Login, secure_client: TestClient
) -> None:
    anonymous = secure_client.get("/providers/power_grid/usage", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/signin?next=/providers/power_grid/usage")
    assert login("institution", BANK).get("/providers/power_grid/usage").status_code == 403
    unknown = login("operator", "ops").get("/providers/nobody/usage")
    assert unknown.status_code == 404
