"""The application factory: nothing happens at import time (STYLE.md rule 10)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from rongxin import __version__
from rongxin.access_log import AccessLogMiddleware
from rongxin.api import api_router
from rongxin.catalog import service as catalog_service
from rongxin.config import Settings
from rongxin.db.checkpoint import WalCheckpointer
from rongxin.db.group_commit import GroupCommitWriter
from rongxin.db.session import (
    build_engine,
    check_connection,
    is_sqlite_busy,
    is_sqlite_file,
    session_factory,
)
from rongxin.errors import RongxinError, ServiceUnavailable
from rongxin.logging import configure_logging, get_logger
from rongxin.providers import client as providers_client
from rongxin.web import STATIC_DIR
from rongxin.web import auth as web_auth
from rongxin.web.pages import page_not_found, web_router
from rongxin.web.pages_consent import consent_router
from rongxin.web.pages_consent_requests import consent_requests_router
from rongxin.web.pages_console import console_router
from rongxin.web.pages_history import history_router
from rongxin.web.pages_institutions import institutions_router
from rongxin.web.pages_monitoring import monitoring_router
from rongxin.web.pages_providers import providers_router
from rongxin.web.pages_rating import rating_router as rating_pages_router
from rongxin.web.pages_rights import rights_router as rights_pages_router
from rongxin.web.pages_rights_evidence import rights_evidence_router
from rongxin.web.pages_rights_handling import rights_handling_router
from rongxin.web.pages_rights_objections import rights_objections_router
from rongxin.web.pages_rights_repairs import rights_repairs_router
from rongxin.web.pages_rights_self_reports import rights_self_reports_router

log = get_logger(__name__)


def create_app(settings: Settings) -> FastAPI:
    configure_logging(level=settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = build_engine(settings, background_checkpoints=True)
        app.state.engine = engine
        # SQLite: the WAL is checkpointed by this thread, not inside writers' commits
        checkpointer = WalCheckpointer(engine) if is_sqlite_file(engine) else None
        app.state.wal_checkpointer = checkpointer
        if checkpointer is not None:
            checkpointer.start()
        app.state.session_factory = session_factory(engine)
        app.state.group_commit = GroupCommitWriter(app.state.session_factory)
        app.state.group_commit.start()
        app.state.provider_client = providers_client.build_client(
            settings.provider_endpoints_path, catalog=app.state.catalog
        )
        log.info("startup", node_id=settings.node_id, node_level=settings.node_level.value)
        yield
        app.state.group_commit.stop()  # drains queued writes before the engine goes
        if checkpointer is not None:
            checkpointer.stop()  # after the last writes: one more checkpoint
        app.state.provider_client.close()
        engine.dispose()

    # FastAPIOffline: FastAPI with its docs page (Swagger UI) served from the node's own copy,
    # not a CDN — nodes run on networks without the internet
    app = FastAPIOffline(
        title="rongxin 融信",
        version=__version__,
        description="融资信用服务平台 API (国办发〔2021〕52号)",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        static_url="/api/v1/docs/assets",
        favicon_url="/static/favicon.svg",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.catalog = catalog_service.load_catalog(settings.catalog_path)

    @app.exception_handler(RongxinError)
    async def _domain_error(_request: Request, exc: RongxinError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        path = request.url.path
        if exc.status_code == 404 and not path.startswith(("/api/", "/static/", "/healthz")):
            return page_not_found(request)
        return JSONResponse(
            {"error": "http_error", "message": str(exc.detail)}, status_code=exc.status_code
        )

    @app.exception_handler(OperationalError)
    async def _database_busy(_request: Request, exc: OperationalError) -> JSONResponse:
        """SQLite allows one writer: a transaction that read an older snapshot and then writes
        can be refused ("database is locked") under concurrent writes. That is load, not a
        bug: answer 503 with Retry-After so the client retries. Anything else re-raises."""
        if not is_sqlite_busy(exc):
            raise exc
        log.warning("database_busy")
        return JSONResponse(
            {"error": "database_busy", "message": "the embedded database is busy; retry shortly"},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in exc.errors()
        ]
        return JSONResponse(
            {"error": "invalid_input", "message": "request is not valid", "details": errors},
            status_code=422,
        )

    app.add_middleware(AccessLogMiddleware)

    @app.get("/healthz", tags=["ops"])
    def healthz(request: Request) -> JSONResponse:
        """Liveness and database reachability (503 when the database cannot be reached)."""
        body = {"status": "ok", "version": __version__, "node_id": settings.node_id}
        try:
            check_connection(request.app.state.engine)
        except ServiceUnavailable:
            log.warning("healthz_database_unreachable")
            return JSONResponse({**body, "status": "database_unreachable"}, status_code=503)
        return JSONResponse(body)

    app.include_router(api_router)
    # Every page re-checks the signed-in principal's API key (web/auth.py).
    signed_in = [Depends(web_auth.load_web_principal)]
    app.include_router(web_router, dependencies=signed_in)
    app.include_router(web_auth.auth_router, dependencies=signed_in)
    app.include_router(providers_router, dependencies=signed_in)
    app.include_router(consent_router, dependencies=signed_in)
    app.include_router(consent_requests_router, dependencies=signed_in)
    app.include_router(institutions_router, dependencies=signed_in)
    app.include_router(monitoring_router, dependencies=signed_in)
    app.include_router(console_router, dependencies=signed_in)
    app.include_router(history_router, dependencies=signed_in)
    app.include_router(rating_pages_router, dependencies=signed_in)
    app.include_router(rights_pages_router, dependencies=signed_in)
    app.include_router(rights_objections_router, dependencies=signed_in)
    app.include_router(rights_repairs_router, dependencies=signed_in)
    app.include_router(rights_self_reports_router, dependencies=signed_in)
    app.include_router(rights_evidence_router, dependencies=signed_in)
    app.include_router(rights_handling_router, dependencies=signed_in)
    web_auth.install(app, settings)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


#: the cyclic collector's first-generation threshold in a server process (CPython's default is
#: 700 allocations): every report builds thousands of short-lived dicts, and collecting young
#: objects that often cost 12–18 % of a worker's reports (docs/benchmarks.md)
SERVER_GC_THRESHOLD: Final = (50_000, 50, 100)


def server_app() -> FastAPI:
    """The app of a server process (``rongxin serve``, and ``uvicorn rongxin.app:server_app
    --factory``): settings from the environment, and the process tuned for serving — what
    exists once the app is built is frozen out of the collector's passes, and young objects are
    collected less often. Reference counting frees memory as always."""
    app = create_app(Settings())
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVER_GC_THRESHOLD)
    return app
