"""Report test data: an entity with records of public, authorized and self-reported items, one
superseded version, one disputed and one repaired record, and a level-3 field."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from entity_factories import create_entity, make_uscc
from record_factories import create_record
from sqlalchemy.orm import Session

from rongxin.reports.schemas import CreditReport

NAME = "福州市鼓楼区榕城软件科技有限公司"
ID_NUMBER = "350102198001015678"  # level 3: never in any report
TAX_PAID_MARK = "987654.32"  # an authorized item's value: never in a public report
OLD_AUTHORITY = "旧版本处罚机关"  # a superseded version's value
REPAIRED_NO = "榕鼓市监罚〔2020〕9号"  # a repaired record: no longer shown


@dataclass(frozen=True)
class Seeded:
    uscc: str
    other_uscc: str
    penalty_no: str
    disputed_no: str


def seed_report_data(session: Session) -> Seeded:
    """One entity with records of many kinds, and another entity with one record."""
    uscc = make_uscc(region="350102", seed=4242)
    other = make_uscc(region="350102", seed=4343)
    create_entity(
        session,
        uscc=uscc,
        name=NAME,
        region_code="350102",
        industry_code="6513",
        industry_section="I",
        legal_rep_name="林某某",
        registered_capital=500.0,
        size_class="small",
    )
    create_entity(session, uscc=other, name="福州市台江区别家贸易有限公司")

    create_record(
        session,
        item_code="registration",
        uscc=uscc,
        payload={
            "name": NAME,
            "legal_rep_name": "林某某",
            "legal_rep_id_number": ID_NUMBER,
            "registered_capital": 500,
            "establish_date": "2015-06-01",
            "industry_code": "6513",
            "region_code": "350102",
            "address": "福州市鼓楼区五四路1号",
            "status": "存续",
            "registration_authority": "福州市鼓楼区市场监督管理局",
        },
    )
    penalty_no = "榕鼓市监罚〔2024〕15号"
    penalty = {
        "decision_no": penalty_no,
        "violation_type": "虚假宣传",
        "penalty_type": "罚款",
        "fine_amount": 20000,
        "decision_date": "2024-03-15",
        "authority": OLD_AUTHORITY,
        "severity": "一般",
    }
    create_record(session, item_code="admin_penalty", uscc=uscc, payload=penalty)
    create_record(
        session,
        item_code="admin_penalty",
        uscc=uscc,
        payload={**penalty, "authority": "福州市鼓楼区市场监督管理局"},
        received_at=datetime(2026, 2, 1, 1, 0, tzinfo=UTC),
    )
    create_record(
        session,
        item_code="admin_penalty",
        uscc=uscc,
        payload={**penalty, "decision_no": REPAIRED_NO, "decision_date": "2020-01-10"},
        status="repaired",
    )
    disputed_no = "（2025）闽0102执123号"
    create_record(
        session,
        item_code="dishonest_debtor",
        uscc=uscc,
        payload={
            "case_no": disputed_no,
            "publish_date": "2025-05-01",
            "court": "福州市鼓楼区人民法院",
            "performance": "全部未履行",
        },
        status="disputed",
    )
    create_record(
        session,
        item_code="abnormal_operation",
        uscc=uscc,
        payload={
            "listed_date": "2023-07-01",
            "reason": "未按规定报送年度报告",
            "authority": "福州市鼓楼区市场监督管理局",
            "removed_date": "2024-01-05",
        },
    )
    create_record(
        session,
        item_code="tax_arrears",
        uscc=uscc,
        payload={
            "tax_type": "增值税",
            "arrears_amount": 15000.5,
            "announce_date": "2025-10-15",
            "authority": "国家税务总局福州市鼓楼区税务局",
        },
    )
    create_record(
        session,
        item_code="tax_payment",
        uscc=uscc,
        payload={
            "period": "2025-06",
            "tax_type": "增值税",
            "tax_paid": float(TAX_PAID_MARK),
            "declared_on_time": True,
        },
    )
    create_record(
        session,
        item_code="self_statement",
        uscc=uscc,
        payload={
            "statement_type": "经营说明",
            "title": "自述",
            "content": "本企业承诺所填信息真实",
            "commitment_version": "1",
            "reported_date": "2025-09-01",
        },
    )
    create_record(
        session,
        item_code="admin_penalty",
        uscc=other,
        payload={
            "decision_no": "别家罚〔2024〕1号",
            "violation_type": "其他",
            "penalty_type": "警告",
            "decision_date": "2024-01-01",
            "authority": "别家机关",
            "severity": "一般",
        },
    )
    return Seeded(uscc=uscc, other_uscc=other, penalty_no=penalty_no, disputed_no=disputed_no)


def conforming_report(text: str) -> dict[str, Any]:
    """The JSON of a report the API sent, after checking it is exactly a ``CreditReport``: it
    parses into the model, and the model dumps it back unchanged (no missing field a default
    would fill, no extra field the model would drop, every value in the model's JSON form)."""
    sent = json.loads(text)
    assert sent == CreditReport.model_validate_json(text).model_dump(mode="json")
    return dict(sent)
