"""Consent fixtures: API keys and a client signed in to the pages (over https: outside
development the session cookie is ``Secure``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from consent_factories import csrf_of
from fastapi.testclient import TestClient


@pytest.fixture
def web(
    client: TestClient, make_token: Callable[[str, str], str]
) -> Callable[[str, str], TestClient]:
    """Sign ``client`` in (over https) as a new key of ``kind``/``code``."""

    def sign_in(kind: str, code: str) -> TestClient:
        client.base_url = "https://testserver"  # type: ignore[assignment]
        client.cookies.clear()
        form = client.get("/signin")
        assert form.status_code == 200
        r = client.post(
            "/signin",
            data={"token": make_token(kind, code), "csrf": csrf_of(form.text), "next": "/"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        return client

    return sign_in
