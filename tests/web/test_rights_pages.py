"""The rights pages (issue 6) through the TestClient: the enterprise's hub and forms, the
provider's inbox, the operator's deadline dashboard, and one case from filing to its outcome."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import rights_factories
from entity_factories import create_entity, make_uscc
from fastapi.testclient import TestClient
from record_factories import create_record
from rights_factories import PROVIDER
from sqlalchemy.orm import Session
from web_helpers import csrf_of

from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.catalog import service as catalog_service
from rongxin.records.schemas import RecordStatus
from rongxin.rights import objections, repair
from rongxin.rights import service as rights_service
from rongxin.rights.objections import china_today
from rongxin.rights.schemas import (
    CommitmentContext,
    CommitmentEcho,
    ObjectionOutcome,
    ObjectionStatus,
    RepairStatus,
)

FIRM = make_uscc(region="350102", seed=6601)
FIRM_NAME = "福州市鼓楼区闽江异议测试有限公司"
PDF = b"%PDF-1.4\n% evidence\n"

Login = Callable[[str, str], TestClient]


def _penalty(session: Session, *, decided: str, no: str, severity: str = "一般") -> str:
    record = create_record(
        session,
        item_code="admin_penalty",
        uscc=FIRM,
        payload=rights_factories.penalty(decision_no=no, decision_date=decided, severity=severity),
    )
    return record.record_key


@pytest.fixture
def penalty(session: Session) -> str:
    """The firm (registered) with one administrative penalty, repairable now; its key."""
    create_entity(session, uscc=FIRM, name=FIRM_NAME)
    return _penalty(session, decided="2025-01-10", no="榕鼓市监罚〔2025〕12号")


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name}"
    return html_lib.unescape(found.group(1))


def _link(page: str, path: str) -> str:
    found = re.search(rf'href="({re.escape(path)}\?[^"]+)"', page)
    assert found, f"no link to {path}"
    return html_lib.unescape(found.group(1))


def _objection_form(client: TestClient) -> tuple[str, dict[str, str]]:
    """The objection form reached from the hub's 提出异议 link, and its hidden fields."""
    hub = client.get("/rights").text
    page = client.get(_link(hub, "/rights/objections/new")).text
    fields = {
        name: _hidden(page, name)
        for name in ("csrf", "item", "key", "commitment_version", "commitment_sha256")
    }
    return page, fields


def _file(client: TestClient, form: dict[str, str], **overrides: object) -> object:
    data: dict[str, object] = {
        **form,
        "fields": ["fine_amount"],
        "reason": "罚款金额与处罚决定书不符，决定书载明为 500 元。",
        "committed": "yes",
        **overrides,
    }
    return client.post(
        "/rights/objections",
        data=data,
        files=[("files", ("decision.pdf", PDF, "application/pdf"))],
        follow_redirects=False,
    )


def _nothing_written(session: Session) -> None:
    assert objections.list_objections(session, uscc=FIRM) == []
    assert rights_service.commitments(session, uscc=FIRM) == []


def _current(session: Session, key: str) -> RecordStatus:
    item = catalog_service.load_catalog().item("admin_penalty")
    record = objections.current_record(session, uscc=FIRM, item=item, record_key=key)
    return record.status


# ---- who may open which page ---------------------------------------------------------------


def test_every_page_loads_for_its_role_and_refuses_others(
    session: Session, login: Login, secure_client: TestClient, penalty: str
) -> None:
    anonymous = secure_client.get("/rights", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/signin?next=/rights")

    client = login("enterprise", FIRM)
    hub = client.get("/rights")
    assert hub.status_code == 200
    assert hub.headers["cache-control"] == "no-store"
    assert 'href="/rights" aria-current="page"' in hub.text  # the navigation entry
    assert FIRM_NAME in hub.text
    assert "提出异议" in hub.text
    assert "申请信用修复" in hub.text
    assert 'href="/rights/self-query.pdf"' in hub.text
    assert 'href="/history"' in hub.text
    assert "My credit information" in client.get("/rights?lang=en").text
    for path in (
        _link(hub.text, "/rights/objections/new"),
        _link(hub.text, "/rights/repairs/new"),
        "/rights/self-reports/new",
        "/rights/self-reports/new?item=self_statement",
    ):
        assert client.get(path).status_code == 200, path
    pdf = client.get("/rights/self-query.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    report = client.get("/rights/self-query.json").json()
    assert report["purpose"]["code"] == "self_query"
    for path in ("/rights/inbox", "/rights/deadlines"):
        assert client.get(path).status_code == 403, path

    provider = login("provider", PROVIDER)
    inbox = provider.get("/rights/inbox")
    assert inbox.status_code == 200
    assert 'href="/rights/inbox" aria-current="page"' in inbox.text
    for path in ("/rights", "/rights/deadlines", "/rights/objections/new?item=x&key=y"):
        assert provider.get(path).status_code == 403, path

    operator = login("operator", "ops")
    board = operator.get("/rights/deadlines")
    assert board.status_code == 200
    assert "立即运行时限检查" in board.text
    for path in ("/rights", "/rights/inbox"):
        assert operator.get(path).status_code == 403, path

    regulator = login("regulator", "pboc")
    read_only = regulator.get("/rights/deadlines")
    assert read_only.status_code == 200
    assert "立即运行时限检查" not in read_only.text  # regulators read
    assert (
        regulator.post("/rights/sweep", data={"csrf": csrf_of(read_only.text)}).status_code == 403
    )


# ---- the enterprise files an objection ------------------------------------------------------


def test_filing_an_objection_with_a_file(session: Session, login: Login, penalty: str) -> None:
    client = login("enterprise", FIRM)
    page, form = _objection_form(client)
    assert "信用承诺书" in page
    assert 'name="committed" value="yes" required' in page
    assert form["key"] == penalty
    done = _file(client, form)
    assert done.status_code == 303, done.text
    location = done.headers["location"]
    assert re.fullmatch(r"/rights/objections/[0-9a-f]{32}\?done=filed", location)

    [made] = objections.list_objections(session, uscc=FIRM)
    assert made.status is ObjectionStatus.submitted
    assert made.fields == "fine_amount"
    [signed] = rights_service.commitments(session, uscc=FIRM)
    assert signed.sha256 == form["commitment_sha256"]
    [evidence] = rights_service.attachments(session, owner_kind="objection", owner_ids=[made.id])
    assert evidence.filename == "decision.pdf"

    detail = client.get(location).text
    assert "异议已提交" in detail
    assert "待受理" in detail
    assert "罚款金额与处罚决定书不符" in detail
    assert f'href="/rights/attachments/{evidence.id}"' in detail
    assert "撤回" in detail
    download = client.get(f"/rights/attachments/{evidence.id}")
    assert download.status_code == 200
    assert download.content == PDF
    hub = client.get("/rights").text
    assert f'href="/rights/objections/{made.id}"' in hub
    assert "异议办理中" in hub  # on the record itself, instead of a second 提出异议


def test_a_form_error_names_the_field_and_writes_nothing(
    session: Session, login: Login, penalty: str
) -> None:
    client = login("enterprise", FIRM)
    _, form = _objection_form(client)

    short = _file(client, form, reason="太短")
    assert short.status_code == 422
    assert "问题所在：异议理由" in short.text
    assert "请填写异议理由（至少 10 个字）" in short.text
    assert 'aria-invalid="true"' in short.text
    assert "太短" in short.text  # what was typed is kept
    _nothing_written(session)

    unsigned = _file(client, form, committed="")
    assert unsigned.status_code == 422
    assert "问题所在：信用承诺" in unsigned.text
    _nothing_written(session)

    # a file refused after the objection and the commitment were written: all rolled back
    bad = client.post(
        "/rights/objections",
        data={**form, "reason": "罚款金额与处罚决定书不符，应为 500 元。", "committed": "yes"},
        files=[("files", ("page.html", b"<html></html>", "text/html"))],
        follow_redirects=False,
    )
    assert bad.status_code == 422
    assert "问题所在：证明材料" in bad.text
    assert "text/html" in bad.text
    _nothing_written(session)

    stale = _file(client, form, commitment_sha256="0" * 64)
    assert stale.status_code == 409
    _nothing_written(session)

    forged = _file(client, form, csrf="x" * 40)
    assert forged.status_code == 403
    _nothing_written(session)


# ---- from filing to the outcome ---------------------------------------------------------------


def test_operator_accepts_provider_corrects_enterprise_sees_outcome(
    session: Session, login: Login, penalty: str
) -> None:
    enterprise = login("enterprise", FIRM)
    _, form = _objection_form(enterprise)
    assert _file(enterprise, form).status_code == 303
    [made] = objections.list_objections(session, uscc=FIRM)

    operator = login("operator", "ops")
    board = operator.get("/rights/deadlines").text
    assert f'id="case-{made.id}"' in board
    assert FIRM_NAME in board
    assert f'action="/rights/objections/{made.id}/accept"' in board
    accept = {"csrf": csrf_of(board), "note": "材料齐全，予以受理", "back": "/rights/deadlines"}
    forged = operator.post(f"/rights/objections/{made.id}/accept", data={**accept, "csrf": "x"})
    assert forged.status_code == 403
    assert _current(session, penalty) is RecordStatus.published
    accepted = operator.post(
        f"/rights/objections/{made.id}/accept", data=accept, follow_redirects=False
    )
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/rights/deadlines?done=accepted"
    assert _current(session, penalty) is RecordStatus.disputed
    staff_view = operator.get(f"/rights/objections/{made.id}").text
    assert "核查中" in staff_view
    assert "材料齐全，予以受理" in staff_view

    provider = login("provider", PROVIDER)
    inbox = provider.get("/rights/inbox").text
    assert f'id="objection-{made.id}"' in inbox
    assert f'action="/rights/objections/{made.id}/answer"' in inbox
    assert 'name="c_fine_amount" value="5000"' in inbox  # prefilled with the current value
    answer = {
        "csrf": csrf_of(inbox),
        "back": "/rights/inbox",
        "outcome": "corrected",
        "check_result": "经核对处罚决定书，罚款金额应为 500 元，已更正。",
    }
    nothing = provider.post(f"/rights/objections/{made.id}/answer", data=answer)
    assert nothing.status_code == 422  # corrected, but no value changed
    assert "请至少修改一个字段的值" in nothing.text
    answered = provider.post(
        f"/rights/objections/{made.id}/answer",
        data={**answer, "c_fine_amount": "500"},
        follow_redirects=False,
    )
    assert answered.status_code == 303, answered.text
    assert answered.headers["location"] == "/rights/inbox?done=answered"
    closed = objections.get(
        session, objection_id=made.id, principal=Principal(kind=PrincipalKind.enterprise, code=FIRM)
    )
    assert closed.status is ObjectionStatus.closed
    assert closed.outcome is ObjectionOutcome.corrected
    assert _current(session, penalty) is RecordStatus.published

    enterprise = login("enterprise", FIRM)
    detail = enterprise.get(f"/rights/objections/{made.id}").text
    assert "已办结" in detail
    assert "已更正" in detail
    assert "经核对处罚决定书" in detail
    assert "平台已受理" in detail  # the event history
    hub = enterprise.get("/rights").text
    assert "提供部门核查：已更正" in hub  # the notice
    assert "条未读" in hub
    read = enterprise.post(
        "/rights/notices/read", data={"csrf": csrf_of(hub)}, follow_redirects=False
    )
    assert read.status_code == 303
    assert "条未读" not in enterprise.get("/rights").text


def test_the_provider_confirms_and_the_enterprise_withdraws(
    session: Session, login: Login, penalty: str
) -> None:
    enterprise = login("enterprise", FIRM)
    _, form = _objection_form(enterprise)
    assert _file(enterprise, form).status_code == 303
    [made] = objections.list_objections(session, uscc=FIRM)
    detail = enterprise.get(f"/rights/objections/{made.id}").text
    withdrawn = enterprise.post(
        f"/rights/objections/{made.id}/withdraw",
        data={"csrf": csrf_of(detail)},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    assert "已撤回" in enterprise.get(withdrawn.headers["location"]).text
    # another firm's case is not found
    other = login("enterprise", make_uscc(seed=6602))
    assert other.get(f"/rights/objections/{made.id}").status_code == 404


# ---- credit repair ------------------------------------------------------------------------


def test_repair_applied_and_approved(session: Session, login: Login, penalty: str) -> None:
    recent = (china_today() - timedelta(days=10)).isoformat()
    young = _penalty(session, decided=recent, no="榕鼓市监罚〔新〕1号")
    enterprise = login("enterprise", FIRM)
    not_yet = enterprise.get(
        "/rights/repairs/new", params={"item": "admin_penalty", "key": young}
    ).text
    assert "最短公示期未满" in not_yet
    assert '<fieldset class="rights-fieldset" disabled>' in not_yet

    page = enterprise.get(
        "/rights/repairs/new", params={"item": "admin_penalty", "key": penalty}
    ).text
    assert "可申请修复日期" in page
    assert "ndrc-order-2023-58" in page
    data = {
        name: _hidden(page, name)
        for name in ("csrf", "item", "key", "commitment_version", "commitment_sha256")
    }
    applied = enterprise.post(
        "/rights/repairs",
        data={**data, "correction": "已足额缴纳罚款并完成年度报告公示。", "committed": "yes"},
        files=[("files", ("receipt.png", b"\x89PNG\r\n", "image/png"))],
        follow_redirects=False,
    )
    assert applied.status_code == 303, applied.text
    [application] = repair.list_applications(session, uscc=FIRM)
    assert application.status is RepairStatus.submitted
    mine = enterprise.get(applied.headers["location"]).text
    assert "修复申请已提交" in mine
    assert "receipt.png" in mine

    operator = login("operator", "ops")
    board = operator.get("/rights/deadlines").text
    assert f'action="/rights/repairs/{application.id}/review"' in board
    assert "修复审核" in board
    staff = operator.get(f"/rights/repairs/{application.id}").text
    assert "已足额缴纳罚款" in staff
    swept = operator.post("/rights/sweep", data={"csrf": csrf_of(board)}, follow_redirects=False)
    assert swept.status_code == 303
    assert swept.headers["location"].startswith("/rights/deadlines?done=sweep")
    assert "时限检查已运行" in operator.get(swept.headers["location"]).text

    provider = login("provider", PROVIDER)
    inbox = provider.get("/rights/inbox").text
    assert f'id="repair-{application.id}"' in inbox
    approved = provider.post(
        f"/rights/repairs/{application.id}/review",
        data={
            "csrf": csrf_of(inbox),
            "decision": "approve",
            "note": "材料属实",
            "back": "/rights/inbox",
        },
        follow_redirects=False,
    )
    assert approved.status_code == 303, approved.text
    assert _current(session, penalty) is RecordStatus.repaired

    enterprise = login("enterprise", FIRM)
    hub = enterprise.get("/rights").text
    assert "已修复" in hub  # the repaired record, still shown to the enterprise
    assert "信用修复已通过" in hub


# ---- self-reported information ------------------------------------------------------------


def test_self_report_and_a_catalog_error(session: Session, login: Login, penalty: str) -> None:
    client = login("enterprise", FIRM)
    page = client.get("/rights/self-reports/new?item=self_statement").text
    assert 'name="v_title"' in page
    assert 'name="v_statement_id"' not in page  # the platform fills it in
    assert 'name="v_reported_date"' not in page
    data = {
        "csrf": csrf_of(page),
        "item": "self_statement",
        "commitment_version": _hidden(page, "commitment_version"),
        "commitment_sha256": _hidden(page, "commitment_sha256"),
        "committed": "yes",
        "v_statement_type": "不存在的类型",
        "v_title": "2025 年度合同履约情况说明",
        "v_content": "本年度全部合同均已按期履约。",
    }
    refused = client.post("/rights/self-reports", data=data)
    assert refused.status_code == 422
    assert "问题所在：声明类型" in refused.text
    assert "2025 年度合同履约情况说明" in refused.text
    assert rights_service.commitments(session, uscc=FIRM) == []

    saved = client.post(
        "/rights/self-reports",
        data={**data, "v_statement_type": "合同履约"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"].startswith("/rights?done=reported")
    assert "2025 年度合同履约情况说明" in client.get("/rights").text


def test_the_operator_records_a_broken_commitment(
    session: Session, login: Login, penalty: str
) -> None:
    firm = Principal(kind=PrincipalKind.enterprise, code=FIRM)
    text = rights_service.load_commitments().in_force(china_today())
    signed = rights_service.sign_commitment(
        session,
        texts=rights_service.load_commitments(),
        principal=firm,
        uscc=FIRM,
        echo=CommitmentEcho(version=text.version, sha256=text.sha256),
        context=CommitmentContext.self_report,
    )
    regulator = login("regulator", "reg-1")
    listed = regulator.get(f"/rights/commitments?uscc={FIRM}")
    assert listed.status_code == 200
    assert FIRM_NAME in listed.text
    assert f"/rights/commitments/{signed.id}/broken" not in listed.text  # regulators read
    operator = login("operator", "ops-1")
    page = operator.get(f"/rights/commitments?uscc={FIRM}").text
    action = f"/rights/commitments/{signed.id}/broken"
    assert action in page
    short = operator.post(action, data={"csrf": csrf_of(page), "uscc": FIRM, "note": "x"})
    assert short.status_code == 422  # a note is needed; nothing recorded
    assert rights_service.broken_commitments(session, uscc=FIRM) == 0
    done = operator.post(
        action,
        data={"csrf": csrf_of(page), "uscc": FIRM, "note": "自报收入与纳税数据严重不符"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/rights/commitments?uscc={FIRM}&done=broken"
    assert rights_service.broken_commitments(session, uscc=FIRM) == 1
    assert "自报收入与纳税数据严重不符" in operator.get(done.headers["location"]).text
    refused = login("enterprise", FIRM).get(f"/rights/commitments?uscc={FIRM}")
    assert refused.status_code == 403
