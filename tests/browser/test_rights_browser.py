"""The enterprise's rights page in a real browser: it loads without console errors and shows a
record under objection as 异议中, with the open objection linked from the record."""

from __future__ import annotations

import re

import pytest
from browser_support import LiveServer, Tab, no_horizontal_scroll
from playwright.sync_api import expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.catalog import service as catalog_service
from rongxin.db.base import utcnow
from rongxin.records.models import CreditRecord
from rongxin.rights import objections
from rongxin.rights import service as rights_service
from rongxin.rights.calendar import load_calendar
from rongxin.rights.rules import load_rules
from rongxin.rights.schemas import CommitmentEcho, ObjectionCreate


@pytest.fixture(scope="module")
def disputed(live_server: LiveServer, browser_db_url: str) -> tuple[str, str]:
    """An enterprise of the live server's database with an accepted objection to one of its
    administrative penalties (the record is 异议中); its API key and the objection's id."""
    engine = create_engine(browser_db_url)
    with Session(engine) as session:
        record = session.scalars(
            select(CreditRecord)
            .where(
                CreditRecord.item_code == "admin_penalty",
                CreditRecord.is_current.is_(True),
                CreditRecord.status == "published",
            )
            .order_by(CreditRecord.uscc)
            .limit(1)
        ).one()
        firm = Principal(kind=PrincipalKind.enterprise, code=record.uscc)
        text = rights_service.load_commitments().in_force(utcnow())
        rules, calendar = load_rules(), load_calendar()
        made = objections.file_objection(
            session,
            catalog=catalog_service.load_catalog(),
            rules=rules,
            calendar=calendar,
            texts=rights_service.load_commitments(),
            principal=firm,
            body=ObjectionCreate(
                item_code="admin_penalty",
                record_key=record.record_key,
                fields=["fine_amount"],
                reason="罚款金额与处罚决定书不符，请核查。",
                commitment=CommitmentEcho(version=text.version, sha256=text.sha256),
            ),
        )
        objections.accept(
            session,
            objection_id=made.id,
            principal=Principal(kind=PrincipalKind.operator, code="ops"),
            rules=rules,
            calendar=calendar,
        )
        token = access_service.create_api_key(
            session, kind=PrincipalKind.enterprise, code=record.uscc
        ).token
        session.commit()
    engine.dispose()
    return token, made.id


def _sign_in(tab: Tab, token: str, path: str) -> None:
    tab.open(path)
    tab.page.wait_for_url(re.compile(r"/signin\?next="))
    tab.page.get_by_label("API 密钥").fill(token)
    tab.page.get_by_role("button", name="登录").click()
    tab.page.wait_for_url(re.compile(re.escape(path) + "$"))


def test_the_rights_page_shows_the_record_under_objection(
    tab: Tab, disputed: tuple[str, str]
) -> None:
    token, objection_id = disputed
    _sign_in(tab, token, "/rights")
    expect(tab.page.locator("h1").first).to_contain_text("我的信用信息")
    record = tab.page.locator(
        ".report-record", has=tab.page.locator(f'a[href="/rights/objections/{objection_id}"]')
    )
    expect(record).to_have_count(1)
    expect(record.locator(".report-record__head")).to_contain_text("异议中")
    expect(record.locator(".rights-record-actions")).to_contain_text("核查中")
    expect(tab.page.locator("#notices")).to_contain_text("平台已受理")
    tab.screenshot("rights-hub")
    record.get_by_role("link", name="异议办理中").click()
    tab.page.wait_for_url(re.compile(rf"/rights/objections/{objection_id}$"))
    expect(tab.page.locator("#events-heading")).to_have_text("办理记录")
    tab.problems.assert_clean()


def test_the_rights_page_fits_a_phone(phone: Tab, disputed: tuple[str, str]) -> None:
    _sign_in(phone, disputed[0], "/rights")
    no_horizontal_scroll(phone.page)
    phone.screenshot("phone-rights-hub")
    phone.problems.assert_clean()
