"""Signing calls between the platform and a provider's service (shared secret, HMAC-SHA256).

Every call carries three headers::

    X-Rongxin-Timestamp: 1767686400    (Unix seconds)
    X-Rongxin-Nonce:     3f0c…         (unique per call, 16–128 of [A-Za-z0-9_-])
    X-Rongxin-Signature: v1=<hex HMAC-SHA256(secret, message)>

    message = "{timestamp}\\n{nonce}\\nPOST\\n{operation}\\n" + body   (operation: /query, /verify)

The service rejects a timestamp more than five minutes off its clock, a signature that does not
match (compared in constant time) and a nonce it has seen within the window (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Final

from rongxin.providers.errors import SignatureRejected

VERSION: Final = "v1"
TIMESTAMP_HEADER: Final = "X-Rongxin-Timestamp"
NONCE_HEADER: Final = "X-Rongxin-Nonce"
SIGNATURE_HEADER: Final = "X-Rongxin-Signature"
MAX_SKEW_SECONDS: Final = 300
MIN_SECRET_BYTES: Final = 16
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


def _message(timestamp: str, nonce: str, method: str, path: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n{method.upper()}\n{path}\n".encode() + body


def signature(
    secret: bytes, *, timestamp: str, nonce: str, method: str, path: str, body: bytes
) -> str:
    digest = hmac.new(secret, _message(timestamp, nonce, method, path, body), hashlib.sha256)
    return f"{VERSION}={digest.hexdigest()}"


def sign_headers(
    secret: bytes, *, method: str, path: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    """The three headers for one call (a fresh nonce each time)."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature(
            secret, timestamp=timestamp, nonce=nonce, method=method, path=path, body=body
        ),
    }


class NonceCache:
    """Nonces seen within the skew window (thread-safe); older ones are forgotten, since a
    call that old is refused by its timestamp anyway."""

    def __init__(self, window_seconds: int = MAX_SKEW_SECONDS) -> None:
        self._window = window_seconds
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, nonce: str, now: float) -> bool:
        """Remember ``nonce``; False when it was already seen (a replay)."""
        with self._lock:
            if len(self._seen) > 1024:
                horizon = now - 2 * self._window
                self._seen = {n: t for n, t in self._seen.items() if t >= horizon}
            if nonce in self._seen:
                return False
            self._seen[nonce] = now
            return True


class Verifier:
    """Checks the headers of incoming calls against one shared secret."""

    def __init__(
        self,
        secret: bytes,
        *,
        max_skew_seconds: int = MAX_SKEW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the shared secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        self._skew = max_skew_seconds
        self._clock = clock
        self._nonces = NonceCache(max_skew_seconds)

    def check(self, headers: Mapping[str, str], *, method: str, path: str, body: bytes) -> None:
        """Raise :class:`SignatureRejected` (401) unless the call is signed, fresh and new."""
        timestamp = headers.get(TIMESTAMP_HEADER.lower(), "")
        nonce = headers.get(NONCE_HEADER.lower(), "")
        given = headers.get(SIGNATURE_HEADER.lower(), "")
        if not (timestamp and nonce and given):
            raise SignatureRejected(
                f"unsigned call: send {TIMESTAMP_HEADER}, {NONCE_HEADER} and {SIGNATURE_HEADER}",
                reason="missing_headers",
            )
        if not timestamp.isdigit():
            raise SignatureRejected(
                f"{TIMESTAMP_HEADER} must be Unix seconds", reason="bad_timestamp"
            )
        now = self._clock()
        if abs(now - int(timestamp)) > self._skew:
            raise SignatureRejected(
                f"{TIMESTAMP_HEADER} is more than {self._skew} s from this server's clock; "
                "check both clocks (NTP)",
                reason="stale_timestamp",
            )
        if not _NONCE.match(nonce):
            raise SignatureRejected(
                f"{NONCE_HEADER} must be 16–128 characters of A–Z, a–z, 0–9, _ and -",
                reason="bad_nonce",
            )
        expected = signature(
            self._secret, timestamp=timestamp, nonce=nonce, method=method, path=path, body=body
        )
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise SignatureRejected(
                "the signature does not match: both sides must use the same shared secret",
                reason="bad_signature",
            )
        if not self._nonces.add(nonce, now):
            raise SignatureRejected(
                f"{NONCE_HEADER} was already used: every call needs a new nonce",
                reason="replayed_nonce",
            )
