"""Alert pages: staff only, filters with HTMX, evidence without personal data, acknowledge and
close with CSRF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from institution_factories import csrf_of, onboard
from monitoring_factories import BANK, PRIVATE_ITEM, T0, firm, log, reads
from sqlalchemy.orm import Session

from rongxin.access.schemas import PrincipalKind
from rongxin.audit.schemas import Outcome
from rongxin.config import Settings
from rongxin.monitoring import service
from rongxin.monitoring.schemas import AlertRead

SignIn = Callable[[PrincipalKind, str], TestClient]
MINUTE = timedelta(minutes=1)


def _alert(session: Session, settings: Settings) -> AlertRead:
    log(
        session,
        settings,
        reads(T0, 20, every=MINUTE, outcome=Outcome.denied, items=[PRIVATE_ITEM], uscc=firm(3)),
    )
    result = service.scan(session, settings=settings, now=T0 + timedelta(hours=2))
    [alert_id] = result.alerts_created
    return service.get_alert(session, alert_id=alert_id)


def test_pages_are_for_staff(sign_in: SignIn, session: Session, settings: Settings) -> None:
    alert = _alert(session, settings)
    onboard(session, "bank-xm")
    client = sign_in(PrincipalKind.institution, "bank-xm")
    assert client.get("/monitoring/alerts", follow_redirects=False).status_code == 403
    client = sign_in(PrincipalKind.provider, "samr")
    assert client.get("/monitoring/alerts").status_code == 403
    assert client.get(f"/monitoring/alerts/{alert.id}").status_code == 403
    client.cookies.clear()
    anonymous = client.get("/monitoring/alerts", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/signin?next=/monitoring/alerts"
    regulator = sign_in(PrincipalKind.regulator, "pboc")
    page = regulator.get(f"/monitoring/alerts/{alert.id}")
    assert page.status_code == 200
    assert 'name="note"' not in page.text  # regulators read, operators act
    posted = regulator.post(
        f"/monitoring/alerts/{alert.id}/acknowledge", data={"csrf": "x", "note": "xx"}
    )
    assert posted.status_code == 403


def test_list_with_filters_in_both_locales(
    sign_in: SignIn, session: Session, settings: Settings
) -> None:
    alert = _alert(session, settings)
    client = sign_in(PrincipalKind.operator, "ops")
    zh = client.get("/monitoring/alerts")
    assert zh.status_code == 200
    assert zh.headers["cache-control"] == "no-store"
    assert "访问行为滥用监测告警" in zh.text
    assert 'href="/monitoring/alerts"' in zh.text  # the navigation entry
    assert f'href="/monitoring/alerts/{alert.id}"' in zh.text
    assert "未获授权的访问被拒" in zh.text
    assert "待处理 (1)" in zh.text
    fragment = client.get("/monitoring/alerts?status=closed", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text  # the HTMX fragment only
    assert alert.id not in fragment.text
    assert "暂无符合条件的告警" in fragment.text
    by_rule = client.get("/monitoring/alerts?rule=refused_reads&severity=high&institution=" + BANK)
    assert alert.id in by_rule.text
    en = client.get("/monitoring/alerts?lang=en")
    assert "Abuse alerts on access behaviour" in en.text
    assert "Refused reads (no authorization)" in en.text


def test_detail_shows_evidence_without_personal_data(
    sign_in: SignIn, session: Session, settings: Settings
) -> None:
    alert = _alert(session, settings)
    client = sign_in(PrincipalKind.operator, "ops")
    page = client.get(f"/monitoring/alerts/{alert.id}")
    assert page.status_code == 200
    assert f'id="seq-{alert.first_seq}"' in page.text
    assert f"cursor={alert.first_seq + 1}" in page.text  # a link to the entry in the log
    assert PRIVATE_ITEM in page.text
    assert firm(3) not in page.text  # the enterprise is not shown
    assert "拒绝" in page.text


def test_acknowledge_and_close_with_csrf(
    sign_in: SignIn, session: Session, settings: Settings
) -> None:
    alert = _alert(session, settings)
    client = sign_in(PrincipalKind.operator, "ops")
    page = client.get(f"/monitoring/alerts/{alert.id}")
    csrf = csrf_of(page.text)
    forged = client.post(
        f"/monitoring/alerts/{alert.id}/acknowledge", data={"csrf": "forged", "note": "xx"}
    )
    assert forged.status_code == 403
    assert service.get_alert(session, alert_id=alert.id).status.value == "open"
    short = client.post(
        f"/monitoring/alerts/{alert.id}/acknowledge", data={"csrf": csrf, "note": "x"}
    )
    assert short.status_code == 409
    assert "a note of at least 2 characters" in short.text
    done = client.post(
        f"/monitoring/alerts/{alert.id}/acknowledge",
        data={"csrf": csrf, "note": "正在联系该银行核查"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/monitoring/alerts/{alert.id}?done=acknowledged"
    after = client.get(done.headers["location"])
    assert "告警已确认。" in after.text
    assert "正在联系该银行核查" in after.text
    closed = client.post(
        f"/monitoring/alerts/{alert.id}/close",
        data={"csrf": csrf, "note": "测试客户端配置错误，已整改"},
    )
    assert closed.status_code == 200
    assert "告警已关闭。" in closed.text
    stored = service.get_alert(session, alert_id=alert.id)
    assert stored.status.value == "closed"
    assert stored.closed_by is not None
    assert stored.closed_by.startswith("operator:ops/")
