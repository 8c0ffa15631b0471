"""Demo cases for trying the rights pages (``rongxin synth-access``, used by ``make demo``): an
enterprise whose administrative penalty is under an accepted objection (异议中, in the provider's
inbox), and one whose penalty is repairable with an application under review (on the operator's
deadline board). Made through the real services, like the other demo parties; the enterprises'
API keys, and one of the penalty's providing department, are written with the others.
"""

from __future__ import annotations

from typing import Any, Final

import polars as pl
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.db.base import utcnow
from rongxin.rights import objections, repair
from rongxin.rights import service as rights_service
from rongxin.rights.calendar import load_calendar
from rongxin.rights.rules import load_rules
from rongxin.rights.schemas import CommitmentEcho, ObjectionCreate, RepairCreate

PENALTY_ITEM: Final = "admin_penalty"
DEMO_OPERATOR: Final = Principal(kind=PrincipalKind.operator, code="demo-operator")


def seed_rights(
    session: Session, *, catalog: Catalog, settings: Settings, exclude: set[str]
) -> dict[str, Any] | None:
    """The two demo cases, on penalties of enterprises not in ``exclude``; ``None`` when the
    node has too few published penalties."""
    rules = load_rules(settings.rights_rules_path)
    texts = rights_service.load_commitments(settings.commitment_dir)
    calendar = load_calendar(settings.holiday_calendar_path)
    item = catalog.item(PENALTY_ITEM)
    today = objections.china_today()
    fields = rules.publicity_fields(PENALTY_ITEM)
    frame = repair.publicity_frame(session, catalog=catalog, rules=rules, item_code=PENALTY_ITEM)
    frame = frame.filter(
        (pl.col("status") == "published")
        & (pl.col("ends") > pl.lit(today))
        & ~pl.col("uscc").is_in(sorted(exclude))
    ).sort("uscc", "record_key")
    now = utcnow()
    text = texts.in_force(now)
    echo = CommitmentEcho(version=text.version, sha256=text.sha256)
    objected: dict[str, Any] | None = None
    repairing: dict[str, Any] | None = None
    for row in frame.iter_rows(named=True):
        terms = rules.publicity(PENALTY_ITEM, {name: row[f"f_{name}"] for name in fields})
        if terms is None:
            continue
        firm = Principal(kind=PrincipalKind.enterprise, code=row["uscc"])
        if repairing is None and terms.repairable(today):
            applied = repair.apply(
                session,
                catalog=catalog,
                rules=rules,
                calendar=calendar,
                texts=texts,
                principal=firm,
                body=RepairCreate(
                    item_code=PENALTY_ITEM,
                    record_key=row["record_key"],
                    correction="已全额缴纳罚款并完成整改，整改报告和缴款凭证见附件（演示数据）。",
                    commitment=echo,
                ),
            )
            repairing = {"uscc": row["uscc"], "application_id": applied.id}
        elif objected is None and row["uscc"] != (repairing or {}).get("uscc"):
            filed = objections.file_objection(
                session,
                catalog=catalog,
                rules=rules,
                calendar=calendar,
                texts=texts,
                principal=firm,
                body=ObjectionCreate(
                    item_code=PENALTY_ITEM,
                    record_key=row["record_key"],
                    fields=["fine_amount"],
                    reason="罚款金额与处罚决定书载明金额不一致，请核查（演示数据）。",
                    commitment=echo,
                ),
            )
            objections.accept(
                session,
                objection_id=filed.id,
                principal=DEMO_OPERATOR,
                rules=rules,
                calendar=calendar,
                note="材料齐全，予以受理（演示数据）",
            )
            objected = {"uscc": row["uscc"], "objection_id": filed.id}
        if objected is not None and repairing is not None:
            break
    if objected is None or repairing is None:
        return None
    for case in (objected, repairing):
        case["token"] = access_service.create_api_key(
            session, kind=PrincipalKind.enterprise, code=case["uscc"], label="demo rights"
        ).token
    # the providing department, to answer the objection in its inbox (/rights/inbox)
    objected["provider"] = item.provider
    objected["provider_token"] = access_service.create_api_key(
        session, kind=PrincipalKind.provider, code=item.provider, label="demo rights"
    ).token
    return {"objection": objected, "repair": repairing}
