"""The provider side: a small standalone service a department deploys next to its own data
(``rongxin provider serve``). It needs no database and no platform code beyond this package.

* ``POST /query`` (接口调用 items only) → the records of one entity within the data date range,
  only the fields asked for;
* ``POST /verify`` (接口调用 and 数据核验 items) → an outcome per claim; stored values never
  come back;
* ``GET /healthz`` → which items are served (no data).

Every call must be signed by the platform with the shared secret (``signing``); every call is
logged with who asked, for which enterprise, item, purpose and authorization — never values.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from rongxin import __version__
from rongxin.access_log import AccessLogMiddleware
from rongxin.catalog.schemas import Item, SharingMode
from rongxin.db.base import utcnow
from rongxin.entities import uscc as uscc_codes
from rongxin.errors import InvalidInput, RongxinError
from rongxin.logging import get_logger
from rongxin.providers import claims as claim_rules
from rongxin.providers.errors import InvalidClaim, ModeNotAllowed, SignatureRejected
from rongxin.providers.schemas import (
    ProviderHealth,
    ProviderQuery,
    ProviderRecords,
    ProviderVerdict,
    ProviderVerify,
)
from rongxin.providers.signing import MAX_SKEW_SECONDS, Verifier
from rongxin.providers.store import ProviderStore

log = get_logger("rongxin.provider")
_Model = TypeVar("_Model", bound=BaseModel)

MAX_BODY_BYTES = 64 * 1024


def _invalid(exc: ValidationError) -> InvalidInput:
    problems = [
        {"field": ".".join(str(p) for p in e["loc"]) or "body", "reason": e["msg"]}
        for e in exc.errors()
    ]
    head = problems[0]
    return InvalidInput(
        f"request is not valid: {head['field']}: {head['reason']}", problems=problems
    )


def _parse(model: type[_Model], body: bytes) -> _Model:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise _invalid(exc) from None


def _subject(raw: str) -> str:
    result = uscc_codes.validate(raw)
    if not result.valid:
        raise InvalidInput(f"uscc: {result.reason}", field="uscc")
    return result.code


def _cited(item: Item, call: ProviderQuery | ProviderVerify) -> None:
    if item.authorization_required and not call.authorization_id:
        raise ModeNotAllowed(
            f"{item.code} is shared only under the enterprise's authorization (经企业授权): "
            "cite it in authorization_id",
            field="authorization_id",
        )


def create_provider_app(
    store: ProviderStore,
    *,
    secret: bytes,
    max_skew_seconds: int = MAX_SKEW_SECONDS,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The service of one provider over its loaded ``store``; ``secret`` is shared with the
    platform (``RONGXIN_PROVIDER_ENDPOINTS_PATH`` on the platform side)."""
    verifier = Verifier(secret, max_skew_seconds=max_skew_seconds, clock=clock)
    app = FastAPI(
        title=f"rongxin provider service ({store.provider_code})",
        version=__version__,
        description="接口调用 / 数据核验 — a department's service for the platform",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.store = store

    @app.exception_handler(RongxinError)
    async def _domain_error(_request: Request, exc: RongxinError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": "http_error", "message": str(exc.detail)}, status_code=exc.status_code
        )

    async def _signed_body(request: Request, operation: str) -> bytes:
        """The body, once the signature over it is checked (the signed path is the protocol
        operation, so a reverse proxy may mount the service under any prefix)."""
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            raise InvalidInput(f"request body must be at most {MAX_BODY_BYTES} bytes")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise InvalidInput(f"request body must be at most {MAX_BODY_BYTES} bytes")
        try:
            verifier.check(request.headers, method=request.method, path=operation, body=body)
        except SignatureRejected as exc:
            client = request.client.host if request.client else None
            log.warning(
                "provider_call_rejected",
                operation=operation,
                reason=exc.details.get("reason"),
                client=client,
            )
            raise
        return body

    def _logged(event: str, call: ProviderQuery | ProviderVerify, **extra: Any) -> None:
        log.info(
            event,
            provider=store.provider_code,
            item=call.item,
            uscc=call.uscc,
            purpose=call.purpose.value,
            institution=call.institution,
            authorization_id=call.authorization_id,
            **extra,
        )

    @app.get("/healthz", response_model=ProviderHealth)
    async def healthz() -> ProviderHealth:
        return ProviderHealth(status="ok", provider=store.provider_code, items=store.item_codes)

    @app.post("/query", response_model=ProviderRecords)
    async def query(request: Request) -> ProviderRecords:
        """The records of one entity (接口调用 items), within the data date range."""
        call = _parse(ProviderQuery, await _signed_body(request, "/query"))
        served = store.served(call.item)
        item = served.item
        if item.sharing_mode is not SharingMode.interface:
            _logged("provider_query_refused", call, reason="verification_only")
            raise ModeNotAllowed(
                f"{item.code} is shared by data verification only (数据核验): its values never "
                "leave the provider; use POST /verify",
                field="item",
            )
        _cited(item, call)
        subject = _subject(call.uscc)
        claim_rules.check_date_range(call.date_from, call.date_to)
        names = [f.name for f in item.fields]
        for n, name in enumerate(call.fields or ()):
            if name not in names:
                raise InvalidClaim(
                    f"fields[{n}]: {item.code} has no field {name!r} (fields: {', '.join(names)})",
                    field=f"fields[{n}]",
                )
        wanted = names if call.fields is None else list(dict.fromkeys(["uscc", *call.fields]))
        rows = claim_rules.select_rows(
            item, store.rows(item.code, subject), date_from=call.date_from, date_to=call.date_to
        )
        records = [{name: row.get(name) for name in wanted} for row in rows]
        _logged(
            "provider_query",
            call,
            fields=wanted,
            date_from=call.date_from.isoformat() if call.date_from else None,
            date_to=call.date_to.isoformat() if call.date_to else None,
            records=len(records),
        )
        return ProviderRecords(
            item=item.code,
            uscc=subject,
            provider=store.provider_code,
            fields=wanted,
            records=records,
            answered_at=utcnow(),
        )

    @app.post("/verify", response_model=ProviderVerdict)
    async def verify(request: Request) -> ProviderVerdict:
        """An outcome per claim (数据核验); the stored values never come back."""
        call = _parse(ProviderVerify, await _signed_body(request, "/verify"))
        item = store.served(call.item).item
        _cited(item, call)
        subject = _subject(call.uscc)
        claim_rules.check_date_range(call.date_from, call.date_to)
        where = claim_rules.prepare_where(item, call.where)
        prepared = claim_rules.prepare_claims(item, call.claims)
        rows = claim_rules.select_rows(
            item,
            store.rows(item.code, subject),
            where=where,
            date_from=call.date_from,
            date_to=call.date_to,
        )
        results = claim_rules.evaluate(item, prepared, rows)
        _logged(
            "provider_verify",
            call,
            filters=sorted(where),
            claims=[f"{c.field}:{c.op.value}:{c.aggregate.value}" for c in call.claims],
            outcomes=[r.outcome.value for r in results],
        )
        return ProviderVerdict(
            item=item.code,
            uscc=subject,
            provider=store.provider_code,
            results=results,
            answered_at=utcnow(),
        )

    app.add_middleware(AccessLogMiddleware)
    return app
