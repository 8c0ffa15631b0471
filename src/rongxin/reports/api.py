"""Report routes: the standardized credit report (V2) and usage feedback to providers (V1)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials

from rongxin import errors
from rongxin.access.deps import BearerCredentials, principal_from
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.audit import writer as audit_writer
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.db.group_commit import Batched
from rongxin.deps import (
    CatalogDep,
    GroupCommitDep,
    SessionDep,
    SessionScope,
    SessionScopeDep,
    SettingsDep,
)
from rongxin.errors import InvalidInput
from rongxin.providers import service as providers_service
from rongxin.providers.client import ProviderClient
from rongxin.providers.deps import ProviderClientDep
from rongxin.reports import rendering, service
from rongxin.reports.deps import UsageViewer, require_report_viewer
from rongxin.reports.document import ReportDocument
from rongxin.reports.schemas import (
    CreditReport,
    ProviderUsage,
    ReportFormat,
    ReportPurpose,
    report_json_schema,
)
from rongxin.web import i18n

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/schema")
def get_report_schema() -> dict[str, Any]:
    """The JSON schema of the credit report (``schema_version``: ``SCHEMA_VERSION``)."""
    return report_json_schema()


@router.get("/usage", response_model=ProviderUsage)
def get_usage(
    principal: UsageViewer,
    session: SessionDep,
    catalog: CatalogDep,
    provider: Annotated[
        str | None,
        Query(max_length=64, description="Provider code; a provider key sees only its own."),
    ] = None,
    since: Annotated[datetime | None, Query(description="Count issuances from (ISO 8601).")] = None,
) -> ProviderUsage:
    """How often issued reports used a provider's items, by purpose (使用情况反馈)."""
    if principal.kind is PrincipalKind.provider:
        if provider is not None and provider != principal.code:
            raise Forbidden("a provider key may see only its own usage feedback")
        provider = principal.code
    if provider is None:
        raise InvalidInput("give ?provider=CODE (a data provider's code)", field="provider")
    if since is not None and since.tzinfo is None:
        raise InvalidInput("since needs a time zone, e.g. 2026-01-01T00:00:00Z", field="since")
    return service.provider_usage(session, provider_code=provider, since=since, catalog=catalog)


@router.get(
    "/{uscc}",
    response_model=CreditReport,
    responses={
        200: {
            "content": {"text/html": {}, "application/pdf": {}},
            "description": "The report as JSON (default), HTML or PDF.",
        }
    },
)
async def get_report(
    uscc: str,
    request: Request,
    credentials: BearerCredentials,
    scope: SessionScopeDep,
    settings: SettingsDep,
    catalog: CatalogDep,
    writer: GroupCommitDep,
    providers: ProviderClientDep,
    purpose: Annotated[ReportPurpose, Query(description="Why the report is requested (Z2).")],
    format: Annotated[ReportFormat, Query(description="json (default), html or pdf.")] = (
        ReportFormat.json
    ),
) -> Any:
    """The standardized credit report of one entity, as the caller may see it: public sections
    for any institution, authorized sections (masked) under an active authorization of the
    enterprise, everything for the enterprise itself (purpose ``self_query``). Every call is
    logged (who, purpose, items, authorizations) and counted for each provider whose data it
    shows."""
    # The hot path of the platform: authenticating, the policy's reads and the assembly run in
    # ONE worker-thread hop and one read transaction (not a hop per dependency).
    try:
        principal, report = await run_in_threadpool(
            partial(
                _assemble,
                scope,
                credentials,
                settings=settings,
                catalog=catalog,
                providers=providers,
                uscc=uscc,
                purpose=purpose,
            )
        )
    except _Refused as refused:  # a purpose or policy refusal: logged, then answered
        denied = audit_writer.denial(
            refused.principal,
            action=f"report.{format.value}",
            uscc=uscc,
            purpose=purpose,
            reason=refused.error.message,
        )
        await audit_writer.record(writer, [denied], settings=settings)
        raise refused.error from None
    # The report is handed out only once its issuance is committed by the shared writer (429
    # when the quota is used up). The request awaits its batch on the event loop: no thread is
    # held while the writer works, so many reports wait in one batch.
    await writer.submit(
        Batched(
            service.record_issuances,
            service.Issuance(report=report, requester=principal, format=format, settings=settings),
        )
    )
    if format is ReportFormat.json:  # the assembled data serialised as it is (no model)
        return Response(report.json(), media_type="application/json")
    locale = i18n.negotiate(request, default=settings.default_locale).locale
    name = rendering.filename(report.model, format)
    if format is ReportFormat.html:
        return Response(
            await run_in_threadpool(rendering.render_html, report.model, locale),
            media_type=rendering.MEDIA_TYPES[format],
            headers={
                "Content-Security-Policy": rendering.DOCUMENT_CSP,
                "Content-Language": locale,
                "Content-Disposition": f'inline; filename="{name}"',
            },
        )
    return Response(
        await run_in_threadpool(rendering.render_pdf, report.model, locale),
        media_type=rendering.MEDIA_TYPES[format],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Language": locale,
        },
    )


class _Refused(Exception):
    """The policy refused a report to an authenticated caller (logged as a denial)."""

    def __init__(self, principal: Principal, error: errors.Forbidden) -> None:
        super().__init__(error.message)
        self.principal, self.error = principal, error


def _assemble(
    scope: SessionScope,
    credentials: HTTPAuthorizationCredentials | None,
    *,
    settings: Settings,
    catalog: Catalog,
    providers: ProviderClient,
    uscc: str,
    purpose: ReportPurpose,
) -> tuple[Principal, ReportDocument]:
    """Authenticate the caller and assemble its report, in one read transaction (committed
    before the issuance is logged: it may hold SQLite's write lock for a key's last-use stamp,
    which the writer's batch needs)."""
    with scope() as session:
        principal = require_report_viewer(principal_from(session, settings, credentials))
        try:
            report = service.assemble_report(
                session,
                catalog=catalog,
                uscc=uscc,
                requester=principal,
                purpose=purpose,
                settings=settings,
                interface=providers_service.interface_fetcher(
                    session, providers, principal=principal, uscc=uscc, purpose=purpose
                ),
            )
        except errors.Forbidden as exc:
            raise _Refused(principal, exc) from exc
    return principal, report
