"""Helpers shared by the identity tests (importable as ``access_helpers``)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from rongxin.access import totp
from rongxin.access.schemas import PrincipalKind

#: a fixed instant, 12 s into a 30-second TOTP step
T0 = datetime(2026, 3, 2, 1, 0, 12, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@dataclass
class MadeUser:
    id: str
    username: str
    password: str
    kind: PrincipalKind
    code: str
    totp_secret: str | None

    def code_at(self, when: datetime) -> str:
        assert self.totp_secret is not None
        return totp.code_at(self.totp_secret, at=when)


def secret_of(uri: str | None) -> str | None:
    """The base32 secret inside an ``otpauth://`` provisioning URI."""
    if uri is None:
        return None
    return parse_qs(urlsplit(uri).query)["secret"][0]


def split_token(token: str) -> tuple[str, str]:
    """(client_id, client_secret) of an ``rx_<key_id>_<secret>`` token."""
    key_id, _, secret = token.removeprefix("rx_").partition("_")
    return key_id, secret


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id_number(area: str = "350102", birth: str = "19800214", sequence: str = "123") -> str:
    """A resident ID number (GB 11643) with the right check character."""
    first17 = area + birth + sequence
    return (
        first17
        + "10X98765432"[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]
    )


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def session_payload(client: TestClient, cookie: str = "rongxin_session") -> dict[str, Any]:
    """The (signed, not encrypted) session cookie's JSON payload."""
    data = client.cookies[cookie].split(".")[0]
    payload: dict[str, Any] = json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))
    return payload
