"""Batch-push routes: who may do what, and downloading a delivered file."""

from __future__ import annotations

import httpx2
import pytest
from fastapi.testclient import TestClient
from institution_factories import key_headers
from push_factories import entity
from record_factories import create_record
from sqlalchemy.orm import Session

from conftest import T0
from rongxin.access.schemas import PrincipalKind
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.push import service

BASE = "/api/v1/push"


def _key(session: Session, kind: PrincipalKind, code: str) -> dict[str, str]:
    return key_headers(session, kind, code)


@pytest.fixture
def keys(session: Session) -> dict[str, dict[str, str]]:
    return {
        "bank_a": _key(session, PrincipalKind.institution, "bank_a"),
        "bank_b": _key(session, PrincipalKind.institution, "bank_b"),
        "provider": _key(session, PrincipalKind.provider, "samr"),
        "operator": _key(session, PrincipalKind.operator, "fujian-centre"),
    }


FILE_SUB = {"name": "福建制造业处罚", "region_prefix": "35", "file_format": "jsonl"}


def test_auth_matrix(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    assert client.get(f"{BASE}/subscriptions").status_code == 401
    assert client.post(f"{BASE}/subscriptions", json=FILE_SUB).status_code == 401
    provider = client.get(f"{BASE}/subscriptions", headers=keys["provider"])
    assert provider.status_code == 403
    assert provider.json()["error"] == "forbidden"

    created = client.post(f"{BASE}/subscriptions", json=FILE_SUB, headers=keys["bank_a"])
    assert created.status_code == 201, created.text
    sub = created.json()
    assert (sub["institution_code"], sub["status"], sub["webhook_secret"]) == (
        "bank_a",
        "active",
        None,
    )
    url = f"{BASE}/subscriptions/{sub['id']}"
    other = client.post(f"{BASE}/subscriptions", json=FILE_SUB, headers=keys["bank_b"]).json()

    assert client.get(url, headers=keys["bank_a"]).status_code == 200
    for method, path in (
        ("GET", url),
        ("GET", f"{url}/deliveries"),
        ("DELETE", url),
    ):
        res = client.request(method, path, headers=keys["bank_b"])
        assert res.status_code == 404, (method, path)
        assert res.json()["error"] == "not_found"
    mine = client.get(f"{BASE}/subscriptions", headers=keys["bank_b"]).json()
    assert [s["id"] for s in mine] == [other["id"]]

    everyone = client.get(f"{BASE}/subscriptions", headers=keys["operator"]).json()
    assert {s["id"] for s in everyone} == {sub["id"], other["id"]}
    only_a = client.get(
        f"{BASE}/subscriptions", params={"institution": "bank_a"}, headers=keys["operator"]
    )
    assert [s["id"] for s in only_a.json()] == [sub["id"]]
    assert client.get(url, headers=keys["operator"]).status_code == 200

    assert client.post(f"{url}/pause", headers=keys["bank_a"]).status_code == 403
    assert client.post(f"{url}/pause").status_code == 401
    paused = client.post(f"{url}/pause", json={"reason": "安全评估"}, headers=keys["operator"])
    assert (paused.json()["status"], paused.json()["paused_reason"]) == ("paused", "安全评估")
    resumed = client.post(f"{url}/resume", headers=keys["operator"])
    assert (resumed.json()["status"], resumed.json()["paused_reason"]) == ("active", None)

    assert client.delete(url, headers=keys["bank_a"]).status_code == 204
    assert client.get(url, headers=keys["bank_a"]).status_code == 404


def test_create_rules(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    hook = {"delivery": "webhook", "webhook_url": "https://127.0.0.1:9/hook"}
    created = client.post(f"{BASE}/subscriptions", json=hook, headers=keys["bank_a"])
    assert created.status_code == 201
    secret = created.json()["webhook_secret"]
    assert isinstance(secret, str)
    assert len(secret) == 64
    shown = client.get(f"{BASE}/subscriptions/{created.json()['id']}", headers=keys["bank_a"])
    assert "webhook_secret" not in shown.json()
    assert secret not in shown.text
    listed = client.get(f"{BASE}/subscriptions", headers=keys["operator"])
    assert secret not in listed.text

    for body in (
        {"delivery": "file"},
        {"delivery": "webhook"},
        {"file_format": "pdf"},
        {"file_format": "csv", "region_prefix": "3"},
        {"file_format": "csv", "categories": ["no_such"]},
        {"file_format": "csv", "industry_sections": ["Z"]},
    ):
        res = client.post(f"{BASE}/subscriptions", json=body, headers=keys["bank_a"])
        assert res.status_code == 422, body
    for_b = {**FILE_SUB, "institution_code": "bank_b"}
    assert client.post(f"{BASE}/subscriptions", json=for_b, headers=keys["bank_a"]).status_code == (
        403
    )
    no_code = client.post(f"{BASE}/subscriptions", json=FILE_SUB, headers=keys["operator"])
    assert no_code.status_code == 422
    by_operator = client.post(f"{BASE}/subscriptions", json=for_b, headers=keys["operator"])
    assert by_operator.status_code == 201
    assert by_operator.json()["institution_code"] == "bank_b"


def test_deliveries_and_file_download(
    client: TestClient,
    session: Session,
    keys: dict[str, dict[str, str]],
    catalog: Catalog,
    settings: Settings,
    http_client: httpx2.Client,
) -> None:
    firm = entity(session, region="350102")
    created = client.post(f"{BASE}/subscriptions", json=FILE_SUB, headers=keys["bank_a"])
    hook = {"delivery": "webhook", "webhook_url": "http://127.0.0.1:9/hook"}
    webhook_sub = client.post(f"{BASE}/subscriptions", json=hook, headers=keys["bank_a"]).json()
    sub_id = created.json()["id"]
    record = create_record(session, uscc=firm.uscc)
    service.run_once(session, catalog=catalog, settings=settings, now=T0, http_client=http_client)

    page = client.get(f"{BASE}/subscriptions/{sub_id}/deliveries", headers=keys["bank_a"]).json()
    assert page["total"] == 1
    (delivery,) = page["items"]
    assert (delivery["status"], delivery["record_count"]) == ("delivered", 1)
    assert "file_path" not in delivery
    assert delivery["file_name"].endswith(".jsonl")

    url = f"{BASE}/deliveries/{delivery['id']}/file"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=keys["bank_b"]).status_code == 404
    res = client.get(url, headers=keys["bank_a"])
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/x-ndjson"
    assert delivery["file_name"] in res.headers["content-disposition"]
    assert f'"change_seq":{record.change_seq}' in res.text
    assert client.get(url, headers=keys["operator"]).status_code == 200

    hooked = client.get(
        f"{BASE}/subscriptions/{webhook_sub['id']}/deliveries", headers=keys["bank_a"]
    ).json()
    (pending,) = hooked["items"]
    assert pending["status"] == "pending"
    no_file = client.get(f"{BASE}/deliveries/{pending['id']}/file", headers=keys["bank_a"])
    assert no_file.status_code == 409
    missing = client.get(f"{BASE}/deliveries/nope/file", headers=keys["bank_a"])
    assert missing.status_code == 404
