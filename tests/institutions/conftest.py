"""Fixtures for onboarding API and page tests: bearer headers and a signed-in page client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from institution_factories import csrf_of
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind


@pytest.fixture
def make_key(session: Session) -> Callable[[PrincipalKind, str], str]:
    """Create an API key and return its token."""

    def make(kind: PrincipalKind, code: str) -> str:
        return access_service.create_api_key(session, kind=kind, code=code).token

    return make


@pytest.fixture
def page_client(client: TestClient) -> TestClient:
    """The client over https: outside development the session cookie is ``Secure``."""
    client.base_url = "https://testserver"
    client.cookies.clear()
    return client


@pytest.fixture
def sign_in(
    page_client: TestClient, make_key: Callable[[PrincipalKind, str], str]
) -> Callable[[PrincipalKind, str], TestClient]:
    """Sign the page client in with a new key of ``kind``/``code``."""

    def login(kind: PrincipalKind, code: str) -> TestClient:
        page_client.cookies.clear()
        form = page_client.get("/signin")
        r = page_client.post(
            "/signin",
            data={"token": make_key(kind, code), "csrf": csrf_of(form.text), "next": "/"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        return page_client

    return login
