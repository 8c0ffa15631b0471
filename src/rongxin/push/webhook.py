"""Webhook delivery: a signed JSON POST.

The receiver recomputes ``hex(hmac_sha256(secret, f"{X-Rongxin-Timestamp}.{raw body}"))`` and
compares it with ``X-Rongxin-Signature: v1=<hex>`` in constant time; it dedupes by
``X-Rongxin-Delivery`` (also ``delivery_id`` in the body) and may use each record's
``change_seq`` to drop a record it has already applied.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import httpx2

TIMEOUT_SECONDS = 10.0
SIGNATURE_VERSION = "v1"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def encode_body(
    *, delivery_id: str, subscription_id: str, from_seq: int, to_seq: int, records: list[Any]
) -> bytes:
    body = {
        "delivery_id": delivery_id,
        "subscription_id": subscription_id,
        "from_seq": from_seq,
        "to_seq": to_seq,
        "records": records,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def post(
    client: httpx2.Client,
    *,
    url: str,
    secret: str,
    delivery_id: str,
    body: bytes,
    now: datetime,
) -> str | None:
    """POST one delivery; ``None`` when the receiver answered 2xx, else what went wrong."""
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Rongxin-Delivery": delivery_id,
        "X-Rongxin-Timestamp": timestamp,
        "X-Rongxin-Signature": sign(secret, timestamp, body),
    }
    try:
        response = client.post(
            url, content=body, headers=headers, timeout=TIMEOUT_SECONDS, follow_redirects=False
        )
    except httpx2.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:1000]
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code} from the receiver"
