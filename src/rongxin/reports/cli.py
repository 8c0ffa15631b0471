"""``rongxin report USCC`` (issue a credit report) and ``rongxin report usage`` (V1 feedback).

``rongxin report USCC …`` is short for ``rongxin report issue USCC …``. Reports issued here are
logged with requester kind ``operator`` and code ``cli``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.catalog import service as catalog_service
from rongxin.cli_support import cli_session, echo_err, emit_json, settings_or_exit
from rongxin.errors import InvalidInput
from rongxin.reports import rendering, service
from rongxin.reports.schemas import ReportFormat, ReportPurpose
from rongxin.web import i18n

CLI_REQUESTER = Principal(kind=PrincipalKind.operator, code="cli")


class _IssueByDefault(TyperGroup):
    """A group whose first argument, when it is not a sub-command, is a USCC for ``issue``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: typer's click.Context
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["issue", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_IssueByDefault,
    help="信用报告 — standardized credit reports: `rongxin report USCC`, `rongxin report usage`.",
    no_args_is_help=True,
)


def _locale(value: str) -> str:
    if value not in i18n.LOCALES:
        raise InvalidInput(f"--locale must be one of {', '.join(i18n.LOCALES)}, not {value!r}")
    return value


@app.command("issue")
def issue(
    uscc: str = typer.Argument(..., help="The entity's USCC."),
    format: ReportFormat = typer.Option(ReportFormat.json, "--format", help="json, html or pdf."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file (default: standard output)."
    ),
    purpose: ReportPurpose = typer.Option(
        ReportPurpose.public_inquiry, help="Why the report is issued (logged)."
    ),
    locale: str = typer.Option("zh-CN", help="zh-CN or en (html and pdf)."),
) -> None:
    """Issue one entity's credit report (public information) and log the issuance."""
    locale = _locale(locale)
    settings = settings_or_exit()
    catalog = catalog_service.load_catalog(settings.catalog_path)
    with cli_session(settings) as session:
        report = service.issue_report(
            session,
            catalog=catalog,
            uscc=uscc,
            requester=CLI_REQUESTER,
            purpose=purpose,
            settings=settings,
            format=format,
        )
        # rendered inside the transaction: a rendering failure leaves no issuance logged
        body: bytes
        if format is ReportFormat.pdf:
            body = rendering.render_pdf(report, locale)
        elif format is ReportFormat.html:
            body = rendering.render_html(report, locale).encode()
        else:
            body = (report.model_dump_json(indent=2) + "\n").encode()
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    output.write_bytes(body)
    echo_err(f"报告 {report.report_id} → {output} ({len(body):,} bytes)")


@app.command("usage")
def usage(
    provider: str = typer.Option(..., help="The data provider's catalog code, e.g. samr."),
    since: datetime | None = typer.Option(
        None, help="Count reports issued from this time (UTC when no zone is given)."
    ),
) -> None:
    """How often issued reports used a provider's data, per item and purpose (JSON)."""
    settings = settings_or_exit()
    catalog = catalog_service.load_catalog(settings.catalog_path)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    with cli_session(settings) as session:
        feedback = service.provider_usage(
            session, provider_code=provider, since=since, catalog=catalog
        )
    out: dict[str, Any] = feedback.model_dump(mode="json")
    emit_json(out)
