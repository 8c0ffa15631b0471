"""The policy decision point: role × level × sharing/disclosure × authorization × purpose."""

from __future__ import annotations

import pytest
from entity_factories import make_uscc
from sqlalchemy.orm import Session

from rongxin.access import policy
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind, Purpose
from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog

FIRM = make_uscc(seed=77)
BANK = Principal(kind=PrincipalKind.institution, code="bank_a")


@pytest.fixture
def catalog() -> Catalog:
    return catalog_service.load_catalog()


def _decide(
    session: Session,
    catalog: Catalog,
    principal: Principal | None,
    item: str,
    purpose: Purpose,
    mode: policy.AccessMode = policy.AccessMode.view,
) -> policy.Decision:
    return policy.decide(
        session,
        principal=principal,
        uscc=FIRM,
        item=catalog.item(item),
        purpose=purpose,
        mode=mode,
    )


@pytest.mark.parametrize(
    ("principal", "purpose", "item", "ground"),
    [
        (None, Purpose.public_inquiry, "admin_penalty", policy.Ground.public),
        (BANK, Purpose.pre_loan, "admin_penalty", policy.Ground.public),
        (
            Principal(kind=PrincipalKind.regulator, code="pboc_fz"),
            Purpose.supervision,
            "dishonest_debtor",
            policy.Ground.public,
        ),
        (
            Principal(kind=PrincipalKind.enterprise, code=FIRM),
            Purpose.self_query,
            "tax_payment",
            policy.Ground.subject,
        ),
        (
            Principal(kind=PrincipalKind.provider, code="sat"),
            Purpose.supervision,
            "tax_payment",
            policy.Ground.provider,
        ),
    ],
)
def test_allowed_reads_name_their_ground(
    session: Session,
    catalog: Catalog,
    principal: Principal | None,
    purpose: Purpose,
    item: str,
    ground: policy.Ground,
) -> None:
    decision = _decide(session, catalog, principal, item, purpose)
    assert decision.allowed
    assert decision.ground is ground
    assert decision.unmasked is (ground in (policy.Ground.subject, policy.Ground.provider))


@pytest.mark.parametrize(
    ("principal", "purpose", "item", "reason"),
    [
        (None, Purpose.public_inquiry, "tax_payment", "not public"),
        (None, Purpose.pre_loan, "admin_penalty", "may not read for purpose pre_loan"),
        (BANK, Purpose.public_inquiry, "admin_penalty", "may not read for purpose"),
        (BANK, Purpose.pre_loan, "tax_payment", "needs the enterprise's authorization"),
        (
            Principal(kind=PrincipalKind.operator, code="ops"),
            Purpose.supervision,
            "social_insurance",
            "not public",
        ),
        (
            Principal(kind=PrincipalKind.provider, code="sat"),
            Purpose.supervision,
            "social_insurance",
            "only its own items",
        ),
        (
            Principal(kind=PrincipalKind.enterprise, code=make_uscc(seed=78)),
            Purpose.self_query,
            "tax_payment",
            "tax_payment is not public; an enterprise may not read it",
        ),
        (
            Principal(kind=PrincipalKind.enterprise, code=FIRM),
            Purpose.pre_loan,
            "tax_payment",
            "as self_query",
        ),
    ],
)
def test_denials_say_why(
    session: Session,
    catalog: Catalog,
    principal: Principal | None,
    purpose: Purpose,
    item: str,
    reason: str,
) -> None:
    decision = _decide(session, catalog, principal, item, purpose)
    assert not decision.allowed
    assert reason in decision.reason


def test_public_items_are_not_verifiable_without_authorization(
    session: Session, catalog: Catalog
) -> None:
    decision = _decide(
        session, catalog, BANK, "real_estate", Purpose.pre_loan, policy.AccessMode.verify
    )
    assert not decision.allowed
    with pytest.raises(Forbidden, match="authorization"):
        policy.require(
            session,
            principal=BANK,
            uscc=FIRM,
            item=catalog.item("real_estate"),
            purpose=Purpose.pre_loan,
            mode=policy.AccessMode.verify,
        )


def test_public_view_hides_level_3_fields_and_masks(catalog: Catalog) -> None:
    item = catalog.item("registration")
    public = policy.Decision(item.code, True, "public", policy.Ground.public)
    subject = policy.Decision(item.code, True, "subject", policy.Ground.subject)
    payload = {"uscc": FIRM, "name": "某公司", "legal_rep_id_number": "11010519491231002X"}
    assert "legal_rep_id_number" not in policy.present(item, public, payload)
    assert policy.present(item, subject, payload)["legal_rep_id_number"] == "11010519491231002X"
    denied = policy.Decision(item.code, False, "no")
    assert policy.visible_fields(item, denied) == ()


def test_authorized_view_masks_marked_fields(catalog: Catalog) -> None:
    item = catalog.item("electricity")
    authorized = policy.Decision(item.code, True, "authorized", policy.Ground.authorized)
    shown = policy.present(item, authorized, {"uscc": FIRM, "account_no": "3501000012347788"})
    assert shown["account_no"] == "3501********7788"
