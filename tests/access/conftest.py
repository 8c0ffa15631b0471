"""Fixtures for identity tests: person accounts, API keys, a ``/test/whoami`` route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from access_helpers import PASSWORD, MadeUser, secret_of
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access import users
from rongxin.access.deps import CurrentPrincipal
from rongxin.access.schemas import ApiKeyCreated, PrincipalKind
from rongxin.config import Settings


@pytest.fixture
def make_user(session: Session, settings: Settings) -> Callable[..., MadeUser]:
    counter = iter(range(1, 10_000))

    def make(
        kind: str = "provider",
        code: str = "samr",
        *,
        username: str | None = None,
        password: str = PASSWORD,
        totp: bool | None = None,
        **extra: Any,
    ) -> MadeUser:
        name = username or f"user{next(counter)}.{kind}"
        created = users.create_user(
            session,
            settings=settings,
            username=name,
            password=password,
            kind=PrincipalKind(kind),
            code=code,
            enrol_totp=totp,
            **extra,
        )
        return MadeUser(
            id=created.id,
            username=created.username,
            password=password,
            kind=PrincipalKind(kind),
            code=created.principal_code,
            totp_secret=secret_of(created.totp_provisioning_uri),
        )

    return make


@pytest.fixture
def make_api_key(session: Session) -> Callable[..., ApiKeyCreated]:
    def make(kind: str = "provider", code: str = "samr") -> ApiKeyCreated:
        return access_service.create_api_key(session, kind=PrincipalKind(kind), code=code)

    return make


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The test client, with ``GET /test/whoami`` answering the authenticated principal."""
    app = client.app
    assert isinstance(app, FastAPI)

    async def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
        return principal.model_dump(mode="json")

    if not any(getattr(r, "path", "") == "/test/whoami" for r in app.routes):
        app.add_api_route("/test/whoami", whoami, methods=["GET"])
    return client


@pytest.fixture
def secure_client(client: TestClient) -> TestClient:
    """The client over https (outside development the session cookie is ``Secure``)."""
    client.base_url = "https://testserver"
    client.cookies.clear()
    return client


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with minimal cost in these tests (the production parameters take ~0.5 s per
    hash on a small machine); test_users checks the production hasher's parameters."""
    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )
    users._dummy_hash.cache_clear()
