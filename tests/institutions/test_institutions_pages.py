"""Onboarding pages: who sees them, the checklist, approve with CSRF, suspend."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from institution_factories import application, csrf_of
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind
from rongxin.institutions import assessments, service
from rongxin.institutions.controls import load_controls
from rongxin.institutions.schemas import InstitutionStatus

SignIn = Callable[[PrincipalKind, str], TestClient]
TOKEN = re.compile(r"<code[^>]*>(rx_[A-Za-z0-9_-]+)</code>")


def _score_form(csrf: str, scores: dict[str, int] | None = None) -> dict[str, object]:
    """Every control at 100 with evidence (``scores`` overrides), as the checklist posts it."""
    codes = list(load_controls().controls())
    scores = scores or {}
    return {
        "csrf": csrf,
        "control": codes,
        "score": [str(scores.get(c, 100)) for c in codes],
        "evidence": [f"EV-{i}" for i, _ in enumerate(codes)],
        "note": ["" for _ in codes],
    }


def _under_assessment(session: Session) -> str:
    service.apply(session, spec=application(), actor="applicant")
    started = assessments.start_assessment(
        session, code="bank-fz", controls=load_controls(), assessor="console:li"
    )
    return started.id


def test_pages_are_for_staff(page_client: TestClient, sign_in: SignIn, session: Session) -> None:
    service.apply(session, spec=application(), actor="applicant")
    anonymous = page_client.get("/institutions", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/signin?next=/institutions"
    provider = sign_in(PrincipalKind.provider, "samr")
    assert provider.get("/institutions").status_code == 403
    assert provider.get("/institutions/bank-fz").status_code == 403
    regulator = sign_in(PrincipalKind.regulator, "pboc")
    page = regulator.get("/institutions/bank-fz")
    assert page.status_code == 200
    assert "开始安全评估" not in page.text  # regulators read, operators act
    assert regulator.get("/institutions/new").status_code == 403
    r = regulator.post("/institutions/bank-fz/suspend", data={"csrf": "x", "reason": "xx"})
    assert r.status_code == 403


def test_list_by_status_in_both_locales(sign_in: SignIn, session: Session) -> None:
    service.apply(session, spec=application(), actor="applicant")
    service.apply(session, spec=application("bank-xm", seed=12), actor="applicant")
    service.reject(session, code="bank-xm", actor="operator", reason="licence not verified")
    client = sign_in(PrincipalKind.operator, "ops")
    zh = client.get("/institutions")
    assert zh.status_code == 200
    assert zh.headers["cache-control"] == "no-store"
    assert "接入机构准入与安全评估" in zh.text
    assert "已申请 (1)" in zh.text
    assert "未通过 (1)" in zh.text
    applied = client.get("/institutions?status=applied", headers={"HX-Request": "true"})
    assert applied.status_code == 200
    assert "<html" not in applied.text  # the HTMX fragment only
    assert 'href="/institutions/bank-fz"' in applied.text
    assert "/institutions/bank-xm" not in applied.text
    en = client.get("/institutions?lang=en")
    assert "Onboarding and security assessment of institutions" in en.text
    assert "Rejected (1)" in en.text


def test_application_form_on_behalf(sign_in: SignIn, session: Session) -> None:
    client = sign_in(PrincipalKind.operator, "ops")
    form = client.get("/institutions/new")
    assert form.status_code == 200
    spec = application().model_dump(mode="json")
    data = {
        **{k: v for k, v in spec.items() if k not in ("requested_purposes", "regions")},
        "purpose": spec["requested_purposes"],
        "regions": " ".join(spec["regions"]),
        "csrf": csrf_of(form.text),
    }
    bad = client.post("/institutions/new", data={**data, "uscc": "91350100ABC"})
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text
    assert "not a valid USCC" in bad.text
    no_csrf = client.post("/institutions/new", data={**data, "csrf": "wrong"})
    assert no_csrf.status_code == 403
    assert service.institution_status(session, "bank-fz") is None
    ok = client.post("/institutions/new", data=data, follow_redirects=False)
    assert ok.status_code == 303
    assert ok.headers["location"] == "/institutions/bank-fz"
    assert service.institution_status(session, "bank-fz") is InstitutionStatus.applied


def test_checklist_approve_with_csrf_and_suspend(sign_in: SignIn, session: Session) -> None:
    assessment_id = _under_assessment(session)
    client = sign_in(PrincipalKind.operator, "ops")
    page = client.get("/institutions/bank-fz")
    assert page.status_code == 200
    assert "安全评估：控制项清单" in page.text
    assert "通信传输加密" in page.text
    assert "一票否决（须达 100 分）" in page.text
    assert 'id="score-net_transport_encryption"' in page.text
    csrf = csrf_of(page.text)
    base = f"/institutions/bank-fz/assessments/{assessment_id}"

    # one operator scores: a mandatory control is only partly met
    saved = client.post(
        f"{base}/scores",
        data=_score_form(csrf, {"data_no_onward_transfer": 50}),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    # the same person who scored cannot approve (four-eyes)
    same = client.post(f"{base}/approve", data={"csrf": csrf, "purpose": ["pre_loan"]})
    assert same.status_code == 403
    assert "four-eyes" in same.text

    # a second operator: refused while the mandatory control fails, naming it
    second = sign_in(PrincipalKind.operator, "ops")
    csrf2 = csrf_of(second.get("/institutions/bank-fz").text)
    approve = {"csrf": csrf2, "purpose": ["pre_loan"], "daily_quota": "30"}
    refused = second.post(f"{base}/approve", data=approve)
    assert refused.status_code == 409
    assert "data_no_onward_transfer (禁止对外提供) scored 50" in refused.text
    assert 'role="alert"' in refused.text

    # the first operator's session is gone (the client signed in again): score afresh
    csrf2 = csrf_of(second.get("/institutions/bank-fz").text)
    rescored = second.post(f"{base}/scores", data=_score_form(csrf2), follow_redirects=False)
    assert rescored.status_code == 303
    # the re-scorer is now involved too: a third operator approves; CSRF is required
    third = sign_in(PrincipalKind.operator, "ops")
    csrf3 = csrf_of(third.get("/institutions/bank-fz").text)
    forged = third.post(f"{base}/approve", data={**approve, "csrf": "forged"})
    assert forged.status_code == 403
    assert service.institution_status(session, "bank-fz") is InstitutionStatus.under_assessment
    approved = third.post(f"{base}/approve", data={**approve, "csrf": csrf3})
    assert approved.status_code == 200, approved.text
    assert approved.headers["cache-control"] == "no-store"
    assert "已签发 API 密钥" in approved.text
    token = TOKEN.search(approved.text)
    assert token is not None
    principal = access_service.authenticate(session, token=token.group(1))
    assert principal.code == "bank-fz"
    institution = service.get_institution(session, code="bank-fz")
    assert institution.status is InstitutionStatus.active
    assert institution.daily_quota == 30
    assert TOKEN.search(third.get("/institutions/bank-fz").text) is None  # shown once

    suspended = third.post(
        "/institutions/bank-fz/suspend",
        data={"csrf": csrf3, "reason": "异常批量查询"},
        follow_redirects=False,
    )
    assert suspended.status_code == 303
    assert not service.is_active(session, "bank-fz")
    after = third.get(suspended.headers["location"])
    assert "已暂停接入，立即生效。" in after.text
    assert "异常批量查询" in after.text


def test_score_form_errors_are_explained(sign_in: SignIn, session: Session) -> None:
    assessment_id = _under_assessment(session)
    client = sign_in(PrincipalKind.operator, "ops")
    csrf = csrf_of(client.get("/institutions/bank-fz").text)
    form = _score_form(csrf)
    form["evidence"] = ["" for _ in form["control"]]  # type: ignore[union-attr]
    r = client.post(f"/institutions/bank-fz/assessments/{assessment_id}/scores", data=form)
    assert r.status_code == 422
    assert "控制项 mgmt_policy 的评分须为 0–100，且须填写证据索引。" in r.text
    unknown = client.get("/institutions/no-such-bank")
    assert unknown.status_code == 404
