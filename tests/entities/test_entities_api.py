"""Market-entity JSON routes."""

from __future__ import annotations

from entity_factories import create_entity, make_uscc
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

BASE = "/api/v1/entities"


def test_search_and_get(client: TestClient, session: Session) -> None:
    wanted = create_entity(
        session,
        uscc=make_uscc(region="350102", seed=21),
        name="福州市鼓楼区榕城软件科技有限公司",
        region_code="350102",
        industry_code="6513",
        industry_section="I",
        size_class="small",
        size_rule="gxb-2011-300",
    )
    create_entity(session, uscc=make_uscc(seed=22), name="厦门市思明区鹭岛贸易有限公司")

    res = client.get(BASE, params={"q": "榕城软件"})
    assert res.status_code == 200
    body = res.json()
    assert body["total"] == 1
    assert (body["limit"], body["offset"]) == (20, 0)
    item = body["items"][0]
    assert item["uscc"] == wanted.uscc
    assert item["region_full_name"] == "福建省福州市鼓楼区"
    assert item["size_class_name"] == "小型"

    assert client.get(BASE, params={"q": "有限公司", "region": "3502"}).json()["total"] == 1
    listed = client.get(BASE, params={"limit": 1}).json()
    assert (listed["total"], len(listed["items"])) == (2, 1)

    one = client.get(f"{BASE}/{wanted.uscc.lower()}")
    assert one.status_code == 200
    data = one.json()
    assert data["name"] == "福州市鼓楼区榕城软件科技有限公司"
    assert data["industry_section_name"] == "信息传输、软件和信息技术服务业"
    assert data["entity_type_name"] == "企业"
    assert data["updated_at"].endswith(("Z", "+00:00"))


def test_get_unknown_is_404_with_advice(client: TestClient) -> None:
    res = client.get(f"{BASE}/91350100M000100Y43")
    assert res.status_code == 404
    assert res.json()["error"] == "entity_not_found"
    assert "import" in res.json()["message"]


def test_invalid_input_is_422(client: TestClient) -> None:
    res = client.get(f"{BASE}/91350100M000100Y44")
    assert res.status_code == 422
    assert res.json()["details"]["check"] == "check_character"
    assert client.get(BASE, params={"limit": 0}).status_code == 422
    assert client.get(BASE, params={"region": "35ab"}).status_code == 422


def test_uscc_check(client: TestClient) -> None:
    res = client.post(
        f"{BASE}/uscc-check", json={"codes": ["91350100M000100Y43", "91350100M000100Y4"]}
    )
    assert res.status_code == 200
    good, bad = res.json()
    assert good["valid"] is True
    assert good["entity_type_name"] == "企业"
    assert good["region_full_name"] == "福建省福州市"
    assert bad["valid"] is False
    assert bad["check"] == "length"
    assert client.post(f"{BASE}/uscc-check", json={"codes": []}).status_code == 422
