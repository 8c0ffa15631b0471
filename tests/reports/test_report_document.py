"""The JSON API sends the assembled report data as it is (``ReportDocument.json``), without a
round trip through the pydantic model. For every kind of viewer that JSON must be exactly the
JSON of the validated ``CreditReport``."""

from __future__ import annotations

import json

import pytest
from provider_factories import grant
from rating_factories import rate
from record_factories import electricity_bill
from report_factories import Seeded
from sqlalchemy.orm import Session

from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.reports.assembly import build_report
from rongxin.reports.document import ReportDocument
from rongxin.reports.schemas import ReportPurpose

BANK = Principal(kind=PrincipalKind.institution, code="bank_fz_001")


def _build(
    session: Session, catalog: Catalog, uscc: str, viewer: Principal | None, purpose: ReportPurpose
) -> ReportDocument:
    return build_report(
        session, catalog=catalog, uscc=uscc, requester=viewer, purpose=purpose, node_id="n1"
    )


@pytest.mark.parametrize(
    ("viewer", "purpose"),
    [
        ("bank", ReportPurpose.pre_loan),
        ("bank_authorized", ReportPurpose.pre_loan),
        ("bank_rated", ReportPurpose.pre_loan),
        ("anonymous", ReportPurpose.public_inquiry),
        ("subject", ReportPurpose.self_query),
        ("operator", ReportPurpose.supervision),
    ],
)
def test_document_json_is_the_models_json(
    session: Session,
    catalog: Catalog,
    seeded: Seeded,
    settings: Settings,
    viewer: str,
    purpose: ReportPurpose,
) -> None:
    electricity_bill(session, uscc=seeded.uscc)
    if viewer == "bank_rated":
        rate(session, settings)
    if viewer == "bank_authorized":
        grant(session, seeded.uscc, ["electricity"], institution=BANK.code, access_mode="view")
    principal = {
        "bank": BANK,
        "bank_authorized": BANK,
        "bank_rated": BANK,
        "anonymous": None,
        "subject": Principal(kind=PrincipalKind.enterprise, code=seeded.uscc),
        "operator": Principal(kind=PrincipalKind.operator, code="ops"),
    }[viewer]
    document = _build(session, catalog, seeded.uscc, principal, purpose)
    assert (document.data["summary"]["rating"] is not None) is (viewer == "bank_rated")
    sent = document.json()
    assert json.loads(sent) == json.loads(document.model.model_dump_json())
    # the issuance log reads the same facts from the document as from the model
    model = document.model
    shown = [i for s in model.sections for i in s.items if i.available]
    assert [i.item_code for i in document.shown] == [i.item_code for i in shown]
    assert [i.authorization_id for i in document.shown] == [i.authorization_id for i in shown]
    assert (document.uscc, document.record_count, document.purpose) == (
        model.subject.uscc,
        model.record_count,
        model.purpose.code,
    )
    if viewer == "bank_authorized":
        assert any(i.authorization_id for i in document.shown)
    if viewer == "subject":  # unmasked: the account number appears whole
        assert b"3501000012347788" in sent
