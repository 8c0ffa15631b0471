"""Monitoring fixtures: the rules in force, a catalog, a signed-in page client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from institution_factories import csrf_of
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind
from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog
from rongxin.monitoring.rules import AbuseRules, load_rules


@pytest.fixture
def rules() -> AbuseRules:
    return load_rules()


@pytest.fixture
def catalog() -> Catalog:
    return catalog_service.load_catalog()


@pytest.fixture
def api_headers(session: Session) -> Callable[[PrincipalKind, str], dict[str, str]]:
    def make(kind: PrincipalKind, code: str) -> dict[str, str]:
        token = access_service.create_api_key(session, kind=kind, code=code).token
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def sign_in(client: TestClient, session: Session) -> Callable[[PrincipalKind, str], TestClient]:
    """Sign the client (over https: the session cookie is Secure) in with a new key."""
    client.base_url = "https://testserver"  # type: ignore[assignment]

    def login(kind: PrincipalKind, code: str) -> TestClient:
        client.cookies.clear()
        token = access_service.create_api_key(session, kind=kind, code=code).token
        form = client.get("/signin")
        r = client.post(
            "/signin",
            data={"token": token, "csrf": csrf_of(form.text), "next": "/"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        return client

    return login
