"""Report routes: the standardized credit report (V2) and usage feedback to providers (V1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from rongxin import errors
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import PrincipalKind
from rongxin.audit import writer as audit_writer
from rongxin.db.group_commit import Batched
from rongxin.deps import CatalogDep, GroupCommitDep, SessionDep, SettingsDep
from rongxin.errors import InvalidInput
from rongxin.providers import service as providers_service
from rongxin.providers.deps import ProviderClientDep
from rongxin.reports import rendering, service
from rongxin.reports.deps import ReportViewer, UsageViewer
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
    principal: ReportViewer,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
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
    try:
        report = await run_in_threadpool(
            service.assemble_report,
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
    except errors.Forbidden as exc:  # a purpose or policy refusal: logged, then answered
        await run_in_threadpool(session.commit)  # see below
        denied = audit_writer.denial(
            principal,
            action=f"report.{format.value}",
            uscc=uscc,
            purpose=purpose,
            reason=exc.message,
        )
        await audit_writer.record(writer, [denied], settings=settings)
        raise
    # This request's transaction ends before the shared writer logs the issuance: it may hold
    # SQLite's write lock (a key's last-use stamp), which the writer's batch needs. The report
    # is handed out only once its issuance is committed (429 when the quota is used up). The
    # request awaits its batch on the event loop: no thread is held while the writer works, so
    # many reports wait in one batch (the reading and assembling run in the thread pool).
    await run_in_threadpool(session.commit)
    await writer.submit(
        Batched(
            service.record_issuances,
            service.Issuance(report=report, requester=principal, format=format, settings=settings),
        )
    )
    if format is ReportFormat.json:  # serialised once, straight from the model
        return Response(report.model_dump_json(), media_type="application/json")
    locale = i18n.negotiate(request, default=settings.default_locale).locale
    name = rendering.filename(report, format)
    if format is ReportFormat.html:
        return Response(
            await run_in_threadpool(rendering.render_html, report, locale),
            media_type=rendering.MEDIA_TYPES[format],
            headers={
                "Content-Security-Policy": rendering.DOCUMENT_CSP,
                "Content-Language": locale,
                "Content-Disposition": f'inline; filename="{name}"',
            },
        )
    return Response(
        await run_in_threadpool(rendering.render_pdf, report, locale),
        media_type=rendering.MEDIA_TYPES[format],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Language": locale,
        },
    )
