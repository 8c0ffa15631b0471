"""The authorization centre and the institution's request pages, through the TestClient."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from consent_factories import (
    BANK,
    FIRM,
    OTHER_BANK,
    OTHER_FIRM,
    create_active,
    create_request,
    csrf_of,
)
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from rongxin.access.schemas import Purpose
from rongxin.consent import service
from rongxin.consent.notice import load_notices
from rongxin.db.base import utcnow
from rongxin.web.pages_consent import notice_blocks

Web = Callable[[str, str], TestClient]


def _now_request(session: Session, **overrides: object) -> str:
    now = utcnow()
    made = create_request(session, now=now, valid_until=now + timedelta(days=20), **overrides)
    return made.id


def _active_now(session: Session) -> bool:
    return (
        service.active_authorization(
            session,
            institution_code=BANK,
            uscc=FIRM,
            item_code="tax_payment",
            purpose=Purpose.pre_loan,
            mode="view",
            at=utcnow(),
        )
        is not None
    )


def test_centre_shows_pending_with_notice_and_forms(session: Session, web: Web) -> None:
    aid = _now_request(session)
    client = web("enterprise", FIRM)
    page = client.get("/consent")
    assert page.status_code == 200
    html = page.text
    assert page.headers["cache-control"] == "no-store"
    assert "授权中心" in html
    assert "企业授权风险提示" in html  # the notice itself, in full
    assert 'lang="en"' in html  # its English part is marked for screen readers
    assert f'id="authorization-{aid}"' in html
    assert "纳税信息" in html or "tax_payment" in html
    notice = load_notices().in_force(utcnow())
    assert f'name="risk_notice_sha256" value="{notice.sha256}"' in html
    assert 'name="acknowledged" value="yes" required' in html
    assert html.count('name="csrf"') >= 3  # sign-out, approve, reject
    assert 'href="/consent" aria-current="page"' in html  # navigation entry
    english = client.get("/consent?lang=en").text
    assert "Authorization centre" in english
    assert "Requests waiting for your decision" in english


def test_approve_flow_with_csrf(session: Session, web: Web) -> None:
    aid = _now_request(session)
    client = web("enterprise", FIRM)
    html = client.get("/consent").text
    sha = load_notices().in_force(utcnow()).sha256
    form = {"csrf": csrf_of(html), "risk_notice_sha256": sha, "acknowledged": "yes"}

    forged = client.post(f"/consent/authorizations/{aid}/approve", data={**form, "csrf": "x" * 40})
    assert forged.status_code == 403
    assert not _active_now(session)
    unread = client.post(
        f"/consent/authorizations/{aid}/approve", data={**form, "acknowledged": ""}
    )
    assert unread.status_code == 422
    assert "请先勾选确认已阅读风险提示" in unread.text
    stale = client.post(
        f"/consent/authorizations/{aid}/approve", data={**form, "risk_notice_sha256": "b" * 64}
    )
    assert stale.status_code == 409
    assert not _active_now(session)

    done = client.post(f"/consent/authorizations/{aid}/approve", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/consent?done=approve#authorization-{aid}"
    assert _active_now(session)
    read = service.get_authorization(session, authorization_id=aid, now=utcnow())
    assert read.approval_channel is not None
    assert read.approval_channel.value == "web"
    after = client.get(done.headers["location"]).text
    assert "已同意授权" in after
    assert "生效中的授权" in after
    assert f"/consent/authorizations/{aid}/revoke" in after

    revoked = client.post(
        f"/consent/authorizations/{aid}/revoke",
        data={"csrf": csrf_of(after), "reason": "改用其他银行"},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert not _active_now(session)
    history = client.get("/consent").text
    assert "已撤销" in history
    detail = client.get(f"/consent/authorizations/{aid}").text
    assert "企业撤销" in detail
    assert "改用其他银行" in detail


def test_reject_pause_resume_through_the_page(session: Session, web: Web) -> None:
    now = utcnow()
    active = create_active(session, now=now, valid_until=now + timedelta(days=10)).id
    pending = _now_request(session)
    client = web("enterprise", FIRM)
    token = csrf_of(client.get("/consent").text)
    r = client.post(f"/consent/authorizations/{active}/pause", data={"csrf": token})
    assert r.status_code == 200
    assert "已暂停授权" in r.text
    assert not _active_now(session)
    client.post(f"/consent/authorizations/{active}/resume", data={"csrf": token})
    assert _active_now(session)
    client.post(f"/consent/authorizations/{pending}/reject", data={"csrf": token})
    assert service.get_authorization(session, authorization_id=pending, now=utcnow()).status == (
        "rejected"
    )
    unknown = client.post(f"/consent/authorizations/{active}/explode", data={"csrf": token})
    assert unknown.status_code == 404


def test_another_enterprise_cannot_decide_or_see(session: Session, web: Web) -> None:
    aid = _now_request(session)
    client = web("enterprise", OTHER_FIRM)
    html = client.get("/consent").text
    assert aid not in html
    sha = load_notices().in_force(utcnow()).sha256
    r = client.post(
        f"/consent/authorizations/{aid}/approve",
        data={"csrf": csrf_of(html), "risk_notice_sha256": sha, "acknowledged": "yes"},
    )
    assert r.status_code == 404
    assert client.get(f"/consent/authorizations/{aid}").status_code == 404
    assert not _active_now(session)


def test_pages_are_for_their_kind_only(session: Session, web: Web, client: TestClient) -> None:
    anonymous = client.get("/consent", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/signin?next=/consent")
    bank = web("institution", BANK)
    assert bank.get("/consent").status_code == 403
    provider = web("provider", "sat")
    assert provider.get("/consent/requests").status_code == 403
    assert provider.get("/consent").status_code == 403
    firm = web("enterprise", FIRM)
    assert firm.get("/consent/requests").status_code == 403


def test_institution_requests_through_the_form(session: Session, web: Web) -> None:
    client = web("institution", BANK)
    page = client.get("/consent/requests")
    assert page.status_code == 200
    assert 'name="items" value="tax_payment"' in page.text
    assert 'name="items" value="registration"' not in page.text  # public: needs no consent
    assert 'hx-get="/consent/requests/caps"' in page.text
    form = {
        "csrf": csrf_of(page.text),
        "uscc": FIRM,
        "loan_application_ref": "LA-88",
        "purpose": "pre_loan",
        "items": ["tax_payment", "social_insurance"],
        "access_mode": "verify_only",
        "fetch_frequency": "",
        "data_from_date": "2024-01-01",
        "data_to_date": "2025-12-31",
        "validity_days": "20",
        "retention_days": "0",
    }
    made = client.post("/consent/requests", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    aid = re.search(r"#authorization-([0-9a-f]{32})", made.headers["location"])
    assert aid is not None
    listed = client.get(made.headers["location"]).text
    assert "授权申请已提交" in listed
    assert FIRM in listed
    read = service.get_authorization(session, authorization_id=aid.group(1), now=utcnow())
    assert read.items == ["social_insurance", "tax_payment"]
    assert read.access_mode.value == "verify_only"
    assert read.institution_code == BANK
    assert client.get(f"/consent/authorizations/{read.id}").status_code == 200

    too_long = client.post("/consent/requests", data={**form, "validity_days": "45"})
    assert too_long.status_code == 422
    assert "at most 30 days" in too_long.text
    assert 'id="field-validity_days"' in too_long.text
    assert re.search(r'id="field-validity_days"[^>]*aria-invalid="true"', too_long.text)
    assert 'value="LA-88"' in too_long.text  # what was typed is kept
    inverted = client.post("/consent/requests", data={**form, "data_from_date": "2026-01-01"})
    assert inverted.status_code == 422
    assert "data_to_date" in inverted.text
    public = client.post("/consent/requests", data={**form, "items": ["registration"]})
    assert public.status_code == 422
    assert "publicly disclosable" in public.text
    no_csrf = client.post("/consent/requests", data={**form, "csrf": ""})
    assert no_csrf.status_code == 403


def test_institution_sees_only_its_own(session: Session, web: Web) -> None:
    theirs = _now_request(session, institution=OTHER_BANK)
    client = web("institution", BANK)
    assert theirs not in client.get("/consent/requests").text
    assert client.get(f"/consent/authorizations/{theirs}").status_code == 404
    staff = web("operator", "ops")
    assert staff.get(f"/consent/authorizations/{theirs}").status_code == 200


def test_caps_fragment_follows_the_purpose(web: Web) -> None:
    client = web("institution", BANK)
    post = client.get("/consent/requests/caps?purpose=post_loan", headers={"HX-Request": "true"})
    assert post.status_code == 200
    assert "<html" not in post.text
    assert "1096" in post.text
    assert "定期获取" in post.text
    none = client.get("/consent/requests/caps?purpose=self_query")
    assert "没有可用的授权模板" in none.text


def test_notice_blocks_split_headings_lists_and_languages() -> None:
    blocks = notice_blocks("# 标题\n\n## 一\n\n- 甲\n- 乙\n\n段落\n续\n\n# Title\n\nText")
    assert [(b.kind, b.lang) for b in blocks] == [
        ("h1", "zh-CN"),
        ("h2", "zh-CN"),
        ("ul", "zh-CN"),
        ("p", "zh-CN"),
        ("h1", "en"),
        ("p", "en"),
    ]
    assert blocks[2].lines == ("甲", "乙")
    assert blocks[3].lines == ("段落 续",)
