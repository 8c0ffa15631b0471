"""``rongxin synth-access``: demo parties made through the real services."""

from __future__ import annotations

from entity_factories import create_entity, make_uscc
from record_factories import create_record
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind, Purpose
from rongxin.catalog import service as catalog_service
from rongxin.config import Settings
from rongxin.consent import service as consent_service
from rongxin.db.base import utcnow
from rongxin.institutions import service as institutions_service
from rongxin.rights import objections, repair
from rongxin.rights.schemas import ObjectionStatus, RepairStatus
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


def test_seed_access_adds_an_objection_and_a_repair_application(
    session: Session, settings: Settings
) -> None:
    demo = make_uscc(seed=930)
    create_entity(session, uscc=demo, name="福州示范企业000有限公司")  # the demo firm: first
    for seed, decided in ((931, "2025-01-10"), (932, "2026-11-01")):
        uscc = make_uscc(seed=seed)
        create_entity(session, uscc=uscc, name=f"福州示范企业{seed}有限公司")
        create_record(
            session,
            item_code="admin_penalty",
            uscc=uscc,
            payload={
                "decision_no": f"榕罚〔2026〕{seed}号",
                "violation_type": "未按规定公示年度报告",
                "penalty_type": "罚款",
                "fine_amount": 2000,
                "decision_date": decided,
                "authority": "福州市市场监督管理局",
                "severity": "一般",
                "special_domain": "无",
            },
        )
    session.flush()
    seeded = access.seed_access(
        session, catalog=catalog_service.load_catalog(), settings=settings, enterprises=1
    )
    cases = seeded["rights"]
    assert cases is not None
    objection = objections.get(
        session,
        objection_id=cases["objection"]["objection_id"],
        principal=access_service.authenticate(session, token=cases["objection"]["token"]),
    )
    assert objection.status is ObjectionStatus.with_provider
    application = repair.get(
        session,
        application_id=cases["repair"]["application_id"],
        principal=access_service.authenticate(session, token=cases["repair"]["token"]),
    )
    assert application.status is RepairStatus.submitted
    assert cases["repair"]["uscc"] == make_uscc(seed=931)  # the one past its minimum period
    provider = access_service.authenticate(session, token=cases["objection"]["provider_token"])
    assert (provider.kind, provider.code) == (PrincipalKind.provider, "ndrc")
    inbox = objections.list_objections(session, provider_code=provider.code)
    assert [o.id for o in inbox] == [objection.id]
