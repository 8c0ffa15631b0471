from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from rongxin.entities.models import MarketEntity


def test_entity_page_links_to_its_report(client: TestClient, session: Session) -> None:
    from datetime import date

    from rongxin.db.base import utcnow

    session.add(
        MarketEntity(
            uscc="91350100M000100Y43", name="福州测试科技有限公司", entity_type="enterprise",
            region_code="350102", industry_code="65", industry_section="I", legal_rep_name="张三",
            establish_date=date(2020, 1, 1), status="存续", origin_node="test-node",
            updated_at=utcnow(),
        )
    )  # fmt: skip
    session.flush()
    page = client.get("/entities/91350100M000100Y43")
    assert page.status_code == 200
    assert 'href="/entities/91350100M000100Y43/report"' in page.text
    report = client.get("/entities/91350100M000100Y43/report")
    assert report.status_code == 200
    assert "福州测试科技有限公司" in report.text
