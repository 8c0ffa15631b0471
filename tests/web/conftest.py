"""Fixtures for the signed-in pages: a small delivery package, API keys, a signed-in client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_helpers import sign_in

from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog
from rongxin.synth import service as synth


@pytest.fixture(scope="session")
def web_catalog() -> Catalog:
    return catalog_service.load_catalog()


@pytest.fixture(scope="session")
def web_package(tmp_path_factory: pytest.TempPathFactory, web_catalog: Catalog) -> Path:
    """A small synthetic delivery package (40 entities, one month)."""
    out = tmp_path_factory.mktemp("web-package")
    synth.generate(web_catalog, enterprises=40, seed=5, out=out, months=1)
    return out


@pytest.fixture
def secure_client(client: TestClient) -> TestClient:
    """The client over https: outside development the session cookie is ``Secure``."""
    client.base_url = "https://testserver"
    client.cookies.clear()
    return client


@pytest.fixture
def login(secure_client: TestClient, make_token: Callable[..., str]) -> Callable[..., TestClient]:
    """Sign in as ``kind``/``code``, signing out whoever was signed in: ``login("operator",
    "ops")``."""

    def as_(kind: str, code: str) -> TestClient:
        secure_client.cookies.clear()
        sign_in(secure_client, make_token(kind, code))
        return secure_client

    return as_


@pytest.fixture
def signed_in(
    secure_client: TestClient, make_token: Callable[..., str]
) -> Callable[..., TestClient]:
    """Sign the client in as a new key of ``kind``/``code``."""

    def login(kind: str, code: str) -> TestClient:
        sign_in(secure_client, make_token(kind, code))
        return secure_client

    return login
