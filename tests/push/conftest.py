"""Batch-push fixtures: factories from the records and entities tests, a catalog, a clock, an
HTTP client and a real webhook receiver on a loopback port."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import pytest

from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog

T0 = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)


@pytest.fixture
def catalog() -> Catalog:
    return catalog_service.load_catalog()


@pytest.fixture
def http_client() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=10.0, trust_env=False) as client:
        yield client


@dataclass
class Post:
    delivery_id: str
    timestamp: str
    signature_ok: bool
    body: dict[str, Any]


@dataclass
class Receiver:
    """A webhook receiver that checks every signature and answers the scripted statuses."""

    url: str = ""
    secret: str = ""
    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    posts: list[Post] = field(default_factory=list)

    def answer(self, headers: Any, raw: bytes) -> int:
        timestamp = headers.get("X-Rongxin-Timestamp", "")
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256
        ).hexdigest()
        given = headers.get("X-Rongxin-Signature", "")
        self.posts.append(
            Post(
                delivery_id=headers.get("X-Rongxin-Delivery", ""),
                timestamp=timestamp,
                signature_ok=hmac.compare_digest(given, f"v1={expected}"),
                body=json.loads(raw),
            )
        )
        return self.statuses.pop(0) if self.statuses else self.default_status


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = state.answer(self.headers, raw)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/rongxin-hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
