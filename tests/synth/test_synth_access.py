"""``rongxin synth-access``: demo parties made through the real services."""

from __future__ import annotations

from entity_factories import create_entity, make_uscc
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind, Purpose
from rongxin.catalog import service as catalog_service
from rongxin.config import Settings
from rongxin.consent import service as consent_service
from rongxin.db.base import utcnow
from rongxin.institutions import service as institutions_service
from rongxin.synth import access


def test_seed_access_onboards_the_bank_and_grants_an_authorization(
    session: Session, settings: Settings
) -> None:
    for seed in (1, 2):
        create_entity(session, uscc=make_uscc(seed=900 + seed), name=f"福州示范企业{seed}有限公司")
    session.flush()
    seeded = access.seed_access(
        session, catalog=catalog_service.load_catalog(), settings=settings, enterprises=2
    )
    assert institutions_service.is_active(session, access.DEMO_BANK)
    bank = access_service.authenticate(session, token=seeded["institution"]["token"])
    assert (bank.kind, bank.code) == (PrincipalKind.institution, access.DEMO_BANK)
    firms = seeded["enterprises"]
    assert len(firms) == 2
    for firm in firms:
        who = access_service.authenticate(session, token=firm["token"])
        assert (who.kind, who.code) == (PrincipalKind.enterprise, firm["uscc"])
    granted = seeded["authorization"]
    found = consent_service.active_authorization(
        session,
        institution_code=access.DEMO_BANK,
        uscc=granted["uscc"],
        item_code="social_insurance",
        purpose=Purpose.pre_loan,
        mode="view",
        at=utcnow(),
    )
    assert found is not None
    assert found.id == granted["id"]
    # a second run adds keys to the same bank instead of failing
    again = access.seed_access(
        session, catalog=catalog_service.load_catalog(), settings=settings, enterprises=1
    )
    assert again["institution"]["token"] != seeded["institution"]["token"]
