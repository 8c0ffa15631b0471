from __future__ import annotations

from fastapi.testclient import TestClient

from rongxin.catalog import service


def test_list_items(client: TestClient) -> None:
    resp = client.get("/api/v1/catalog/items")
    assert resp.status_code == 200
    body = resp.json()
    assert body["total"] == len(service.load_catalog().items)
    codes = {i["code"] for i in body["items"]}
    assert {"registration", "admin_penalty", "tax_payment"} <= codes


def test_filter_by_category(client: TestClient) -> None:
    body = client.get("/api/v1/catalog/items", params={"category": "judicial"}).json()
    assert body["total"] >= 2
    assert {i["category"] for i in body["items"]} == {"judicial"}


def test_item_detail_and_404(client: TestClient) -> None:
    item = client.get("/api/v1/catalog/items/admin_penalty").json()
    assert item["provider"] == "ndrc"
    assert any(f["name"] == "severity" for f in item["fields"])
    missing = client.get("/api/v1/catalog/items/nope")
    assert missing.status_code == 404
    assert missing.json()["error"] == "unknown_item"


def test_invalid_filter_is_422(client: TestClient) -> None:
    resp = client.get("/api/v1/catalog/items", params={"sharing_mode": "telepathy"})
    assert resp.status_code == 422
    assert resp.json()["details"][0]["field"].endswith("sharing_mode")
