"""The platform's client of providers' services (STYLE.md rule 9: an external boundary is a
``Protocol``; ``HttpProviderClient`` is the real implementation, chosen by settings).

Which provider is where comes from the endpoints file (``RONGXIN_PROVIDER_ENDPOINTS_PATH``)::

    providers:
      sat:                                  # catalog provider code
        base_url: https://sat-gw.internal:8443
        secret_file: secrets/sat.key        # relative to this file; the shared secret
        timeout_seconds: 5                  # connect + read, per call (default 5)

Secrets are read once at start-up and never logged or shown in a ``repr``. Every failure to get
a protocol answer — not configured, unreachable, timed out, a 5xx, a refusal, a body that is not
the protocol — becomes :class:`ProviderUnavailable` (503) with a ``reason``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx2
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rongxin.catalog.schemas import Catalog
from rongxin.logging import get_logger
from rongxin.providers.errors import EndpointsFileError, ProviderUnavailable
from rongxin.providers.schemas import (
    ProviderQuery,
    ProviderRecords,
    ProviderVerdict,
    ProviderVerify,
)
from rongxin.providers.signing import MIN_SECRET_BYTES, sign_headers

log = get_logger(__name__)
_Result = TypeVar("_Result", bound=BaseModel)

DEFAULT_TIMEOUT_SECONDS = 5.0


class ProviderClient(Protocol):
    """Asks a provider's service, on behalf of the platform, under an authorization."""

    def query(self, *, provider: str, request: ProviderQuery) -> ProviderRecords: ...

    def verify(self, *, provider: str, request: ProviderVerify) -> ProviderVerdict: ...


@dataclass(frozen=True, slots=True)
class ProviderEndpoint:
    code: str
    base_url: str
    secret: bytes = field(repr=False)
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(pattern=r"^https?://[^\s/]+(/\S*)?$")
    secret_file: Path
    timeout_seconds: float = Field(DEFAULT_TIMEOUT_SECONDS, gt=0, le=120)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    providers: dict[str, _Entry] = Field(default_factory=dict)


def read_secret(path: Path, *, what: str) -> bytes:
    """A shared secret from a file (surrounding whitespace stripped)."""
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise EndpointsFileError(
            f"{what}: cannot read secret file {path}: {exc.strerror}", field="secret_file"
        ) from exc
    if len(secret) < MIN_SECRET_BYTES:
        raise EndpointsFileError(
            f"{what}: secret file {path} holds fewer than {MIN_SECRET_BYTES} bytes; "
            "generate one with `openssl rand -hex 32`",
            field="secret_file",
        )
    return secret


def load_endpoints(path: Path, *, catalog: Catalog | None = None) -> dict[str, ProviderEndpoint]:
    """Parse the endpoints file; errors name the file, the provider and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise EndpointsFileError(f"{path}: cannot read endpoints file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise EndpointsFileError(f"{path}: not valid YAML: {exc}") from exc
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e["loc"])
        raise EndpointsFileError(f"{path}: {where}: {e['msg']}", field=where) from None
    known = {p.code for p in catalog.providers} if catalog is not None else None
    out: dict[str, ProviderEndpoint] = {}
    for code, entry in parsed.providers.items():
        if known is not None and code not in known:
            raise EndpointsFileError(
                f"{path}: providers.{code}: not a provider in the catalog",
                field=f"providers.{code}",
            )
        secret_path = entry.secret_file
        if not secret_path.is_absolute():
            secret_path = path.parent / secret_path
        out[code] = ProviderEndpoint(
            code=code,
            base_url=entry.base_url.rstrip("/"),
            secret=read_secret(secret_path, what=f"{path}: providers.{code}"),
            timeout_seconds=entry.timeout_seconds,
        )
    return out


class HttpProviderClient:
    """Signed JSON calls over HTTP(S) with per-provider timeouts (thread-safe)."""

    def __init__(
        self,
        endpoints: Mapping[str, ProviderEndpoint],
        *,
        http: httpx2.Client | None = None,
    ) -> None:
        self._endpoints = dict(endpoints)
        self._http = http or httpx2.Client(trust_env=False, follow_redirects=False)

    @property
    def providers(self) -> list[str]:
        return sorted(self._endpoints)

    def close(self) -> None:
        self._http.close()

    def query(self, *, provider: str, request: ProviderQuery) -> ProviderRecords:
        return self._call(provider, "/query", request, ProviderRecords)

    def verify(self, *, provider: str, request: ProviderVerify) -> ProviderVerdict:
        return self._call(provider, "/verify", request, ProviderVerdict)

    def _call(self, provider: str, path: str, request: BaseModel, result: type[_Result]) -> _Result:
        endpoint = self._endpoints.get(provider)
        if endpoint is None:
            raise ProviderUnavailable(
                f"no service is configured for provider {provider!r} "
                "(RONGXIN_PROVIDER_ENDPOINTS_PATH)",
                provider=provider,
                reason="not_configured",
            )
        url = endpoint.base_url + path
        body = request.model_dump_json().encode()
        headers = {
            "Content-Type": "application/json",
            **sign_headers(endpoint.secret, method="POST", path=path, body=body),
        }
        start = time.perf_counter()
        try:
            response = self._http.post(
                url, content=body, headers=headers, timeout=endpoint.timeout_seconds
            )
        except httpx2.TimeoutException:
            self._failed(provider, path, start, "timeout")
            raise ProviderUnavailable(
                f"provider {provider} did not answer within {endpoint.timeout_seconds:g} s",
                provider=provider,
                reason="timeout",
            ) from None
        except httpx2.HTTPError as exc:
            self._failed(provider, path, start, "unreachable", error=type(exc).__name__)
            raise ProviderUnavailable(
                f"provider {provider}'s service cannot be reached ({type(exc).__name__})",
                provider=provider,
                reason="unreachable",
            ) from None
        status = response.status_code
        if status >= 300:
            reason = (
                "provider_error"
                if status >= 500
                else "signature_rejected"
                if status == 401
                else "refused"
            )
            self._failed(provider, path, start, reason, status=status)
            raise ProviderUnavailable(
                f"provider {provider} answered HTTP {status}{_message_of(response)}",
                provider=provider,
                reason=reason,
                provider_status=status,
            )
        try:
            parsed = result.model_validate_json(response.content)
        except ValidationError:
            self._failed(provider, path, start, "bad_response", status=status)
            raise ProviderUnavailable(
                f"provider {provider} answered with something that is not the protocol",
                provider=provider,
                reason="bad_response",
            ) from None
        log.info(
            "provider_call",
            provider=provider,
            path=path,
            status=status,
            ms=round((time.perf_counter() - start) * 1000, 1),
        )
        return parsed

    @staticmethod
    def _failed(provider: str, path: str, start: float, reason: str, **extra: Any) -> None:
        log.warning(
            "provider_call_failed",
            provider=provider,
            path=path,
            reason=reason,
            ms=round((time.perf_counter() - start) * 1000, 1),
            **extra,
        )


def _message_of(response: httpx2.Response) -> str:
    """The provider's own error message (its protocol errors never carry stored values)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return f": {str(message)[:300]}" if message else ""


def build_client(
    endpoints_path: Path | None, *, catalog: Catalog | None = None
) -> HttpProviderClient:
    """The client the app's lifespan puts on ``app.state.provider_client`` (no endpoints
    file: every call answers ``not_configured``)."""
    endpoints = load_endpoints(endpoints_path, catalog=catalog) if endpoints_path else {}
    return HttpProviderClient(endpoints)
