"""Issuing and counting standardized credit reports (V2, V1): every issuance is logged with
requester and purpose and counted for each provider item it showed. Assembly (what a report
contains) lives in ``rongxin.reports.assembly``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from rongxin.access import policy
from rongxin.access.schemas import Principal
from rongxin.audit import service as audit_service
from rongxin.audit.schemas import AccessEvent, ActorKind, Outcome
from rongxin.catalog.schemas import Catalog, Item
from rongxin.config import Settings
from rongxin.db.bulk import insert_rows
from rongxin.db.group_commit import Batched, run_now
from rongxin.reports.assembly import build_report
from rongxin.reports.document import ReportDocument
from rongxin.reports.errors import UnknownProvider
from rongxin.reports.models import ReportIssue, ReportIssueSource
from rongxin.reports.schemas import (
    PURPOSE_NAMES,
    SCHEMA_VERSION,
    CreditReport,
    ItemUsage,
    ProviderUsage,
    PurposeCount,
    ReportFormat,
    ReportPurpose,
)


def report_sources(report: ReportDocument) -> list[tuple[str, str, int]]:
    """(provider code, item code, record count) for every item whose records the report shows."""
    return [(i.provider_code, i.item_code, i.total) for i in report.shown if i.total]


def issuance_event(report: ReportDocument, *, format: ReportFormat) -> AccessEvent:
    """The access-log entry of an issued report: who, about whom, which items it showed, for
    what purpose and under which authorizations (codes only, never values)."""
    shown = report.shown
    grants = sorted({i.authorization_id for i in shown if i.authorization_id})
    requester = report.requester
    return AccessEvent(
        action=f"report.{format.value}",
        actor_kind=ActorKind(requester["kind"].value),
        actor_code=requester["code"] or "anonymous",
        user_id=requester["user_id"],
        uscc=report.uscc,
        items=[i.item_code for i in shown],
        purpose=report.purpose,
        authorization_id=grants[0] if len(grants) == 1 else None,
        outcome=Outcome.allowed,
        detail=f"report {report.report_id}"
        + (f"; authorizations {', '.join(grants)}" if len(grants) > 1 else ""),
        occurred_at=report.generated_at,
    )


@dataclass(frozen=True, slots=True)
class Issuance:
    """One report to log (see :func:`record_issuances`). Its rows and access-log entry are made
    when it is created — by the request, in parallel with other requests — so that the writer,
    which holds the write lock, only writes them."""

    report: ReportDocument
    requester: Principal | None
    format: ReportFormat
    settings: Settings
    row: dict[str, Any] = field(init=False)
    sources: list[dict[str, Any]] = field(init=False)
    event: AccessEvent = field(init=False)

    def __post_init__(self) -> None:
        report = self.report
        requester = report.requester
        row = {
            "id": report.report_id,
            "uscc": report.uscc,
            "requester_kind": requester["kind"].value,
            "requester_code": requester["code"],
            "purpose": report.purpose.value,
            "format": self.format.value,
            "issued_at": report.generated_at,
            "record_count": report.record_count,
            "schema_version": SCHEMA_VERSION,
        }
        sources = [
            {"report_id": report.report_id, "provider_code": p, "item_code": c, "record_count": n}
            for p, c, n in report_sources(report)
        ]
        object.__setattr__(self, "row", row)
        object.__setattr__(self, "sources", sources)
        object.__setattr__(self, "event", issuance_event(report, format=self.format))


def record_issuances(session: Session, issuances: list[Issuance]) -> list[Exception | None]:
    """Log issued reports, a batch at a time (the API's group-commit writer hands it every
    report its batch holds): each read counted against its institution's daily quota, the
    issuance rows, the providers whose data each used (V1), and the access-log entries (Z3) —
    one statement of each kind for the whole batch.

    For each report ``None`` when logged, or why it may not be handed out (the quota used up:
    429; the institution no longer active): then nothing of it is logged. Only database work
    through ``session``; it must not commit."""
    if not issuances:
        return []
    outcome = policy.count_reads(
        session,
        principals=[i.requester for i in issuances],
        at=max(i.report.generated_at for i in issuances),
    )
    logged = [i for i, refusal in zip(issuances, outcome, strict=True) if refusal is None]
    if not logged:
        return outcome
    connection = session.connection()  # Core executemany: plain rows, no ORM bookkeeping
    insert_rows(connection, ReportIssue, [i.row for i in logged])
    insert_rows(connection, ReportIssueSource, [s for i in logged for s in i.sources])
    audit_service.append(session, [i.event for i in logged], settings=logged[0].settings)
    return outcome


def record_issuance(
    session: Session,
    *,
    report: ReportDocument,
    requester: Principal | None,
    format: ReportFormat,
    settings: Settings,
) -> None:
    """Log one issued report in the caller's transaction (CLI, pages): :func:`record_issuances`
    for one, raising its refusal (429 when the quota is used up; then nothing is logged and
    the report is not handed out)."""
    issuance = Issuance(report=report, requester=requester, format=format, settings=settings)
    run_now(session, Batched(record_issuances, issuance))


def assemble_report(
    session: Session,
    *,
    catalog: Catalog,
    uscc: str,
    requester: Principal | None,
    purpose: ReportPurpose,
    settings: Settings,
    interface: policy.InterfaceFetcher | None = None,
) -> ReportDocument:
    """The report of ``uscc`` as ``requester`` may see it (request checks, then assembly);
    reads only. Hand it out only after :func:`record_issuance` has logged it."""
    policy.check_request(session, principal=requester, purpose=purpose)
    return build_report(
        session,
        catalog=catalog,
        uscc=uscc,
        requester=requester,
        purpose=purpose,
        node_id=settings.node_id,
        interface=interface,
    )


def issue_report(
    session: Session,
    *,
    catalog: Catalog,
    uscc: str,
    requester: Principal | None,
    purpose: ReportPurpose,
    settings: Settings,
    format: ReportFormat,
    interface: policy.InterfaceFetcher | None = None,
) -> CreditReport:
    """Assemble a report and log its issuance in ``session``'s transaction (CLI, pages). The
    API logs through the group-commit writer instead (``rongxin.reports.api``)."""
    report = assemble_report(
        session,
        catalog=catalog,
        uscc=uscc,
        requester=requester,
        purpose=purpose,
        settings=settings,
        interface=interface,
    )
    record_issuance(session, report=report, requester=requester, format=format, settings=settings)
    return report.model


# ---- usage feedback (V1) ------------------------------------------------------------------------


def _purpose_counts(rows: Iterable[tuple[str, int]]) -> list[PurposeCount]:
    found = dict(rows)
    out = []
    for purpose in ReportPurpose:
        if found.get(purpose.value):
            name, name_en = PURPOSE_NAMES[purpose]
            out.append(
                PurposeCount(
                    purpose=purpose, name=name, name_en=name_en, report_count=found[purpose.value]
                )
            )
    return out


def provider_usage(
    session: Session,
    *,
    provider_code: str,
    since: datetime | None = None,
    catalog: Catalog | None = None,
) -> ProviderUsage:
    """How many issued reports used each of a provider's items, by purpose (使用情况反馈).

    With ``catalog``, an unknown provider is an error and every item of the provider is listed
    (unused ones with zeros), with names.
    """
    provider_name = None
    items: dict[str, Item] = {}
    if catalog is not None:
        try:
            provider_name = catalog.provider(provider_code).name
        except KeyError:
            raise UnknownProvider(
                f"no data provider {provider_code!r} in the catalog; `rongxin catalog list` "
                "shows the items and their providers",
                provider=provider_code,
            ) from None
        items = {i.code: i for i in catalog.items if i.provider == provider_code}

    src, issue = ReportIssueSource, ReportIssue
    where = [src.provider_code == provider_code]
    if since is not None:
        where.append(issue.issued_at >= since)
    per_item = session.execute(
        select(src.item_code, issue.purpose, func.count(), func.sum(src.record_count))
        .join(issue, issue.id == src.report_id)
        .where(*where)
        .group_by(src.item_code, issue.purpose)
    ).all()
    per_purpose = session.execute(
        select(issue.purpose, func.count(distinct(src.report_id)))
        .join(issue, issue.id == src.report_id)
        .where(*where)
        .group_by(issue.purpose)
    ).all()

    reports: dict[str, int] = defaultdict(int)
    records: dict[str, int] = defaultdict(int)
    purposes: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for item_code, purpose, n_reports, n_records in per_item:
        reports[item_code] += int(n_reports)
        records[item_code] += int(n_records or 0)
        purposes[item_code].append((purpose, int(n_reports)))
    codes = list(items) + sorted(set(reports) - set(items))
    by_purpose = [(p, int(n)) for p, n in per_purpose]
    return ProviderUsage(
        provider_code=provider_code,
        provider_name=provider_name,
        since=since,
        report_count=sum(n for _, n in by_purpose),
        record_count=sum(records.values()),
        by_purpose=_purpose_counts(by_purpose),
        items=[
            ItemUsage(
                item_code=code,
                name=items[code].name if code in items else None,
                name_en=items[code].name_en if code in items else None,
                report_count=reports.get(code, 0),
                record_count=records.get(code, 0),
                by_purpose=_purpose_counts(purposes.get(code, ())),
            )
            for code in codes
        ],
    )
