"""Rights fixtures: headers of each party's API key."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rights_factories import FIRM, PROVIDER


@pytest.fixture
def headers(make_token: Callable[[str, str], str]) -> Callable[[str, str], dict[str, str]]:
    def make(kind: str, code: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(kind, code)}"}

    return make


@pytest.fixture
def firm(headers: Callable[[str, str], dict[str, str]]) -> dict[str, str]:
    return headers("enterprise", FIRM)


@pytest.fixture
def operator(headers: Callable[[str, str], dict[str, str]]) -> dict[str, str]:
    return headers("operator", "ops-1")


@pytest.fixture
def provider(headers: Callable[[str, str], dict[str, str]]) -> dict[str, str]:
    return headers("provider", PROVIDER)
