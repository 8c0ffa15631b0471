"""Assembling, issuing and counting standardized credit reports (V2, V1).

The report holds only publicly disclosable information (G5): records of catalog items with
``disclosure: public`` and no authorization requirement, and within them only fields below data
level 3 that carry no mask (DOMAIN.md §3, §4) — ``legal_rep_id_number`` never appears. Items that
need the enterprise's authorization (or are disclosed only on request) appear as placeholders
with their names and the reason; their records are not even read. Records are read only through
``rongxin.records.service.current_records``: current versions, published or disputed.

Order (DOMAIN.md §10): header, summary, basic information, public records by category in
catalog order, authorized placeholders, self-reported information (labelled 自主填报), notices.
Sections follow each category's ``report_section`` (the catalog is data); a publicly disclosable
item of a category the catalog places under ``authorized`` (欠税公告, 专利 …) is public record
information and is shown under ``public_records``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from rongxin.access.schemas import Principal
from rongxin.catalog.schemas import Catalog, DataLevel, DisclosureAttribute, FieldDef, Item
from rongxin.db.base import utcnow
from rongxin.entities import reference
from rongxin.entities import service as entities_service
from rongxin.entities.schemas import EntityRead
from rongxin.records import service as records_service
from rongxin.records.schemas import RecordView
from rongxin.reports import wording
from rongxin.reports.errors import PurposeNotAllowed
from rongxin.reports.schemas import (
    CHINA_TZ,
    PURPOSE_NAMES,
    CategoryCount,
    CreditReport,
    FieldValue,
    Named,
    PurposeInfo,
    ReportField,
    ReportFlag,
    ReportItem,
    ReportPurpose,
    ReportRecord,
    ReportSection,
    ReportSubject,
    ReportSummary,
    Requester,
    RequesterKind,
    Restriction,
    SectionCode,
)

KEY_SEPARATOR: Final = "\x1f"

#: who may ask for which purpose (Z2: institutions use the information for financing only)
ALLOWED_PURPOSES: Final[dict[RequesterKind, frozenset[ReportPurpose]]] = {
    RequesterKind.institution: frozenset(
        {ReportPurpose.pre_loan, ReportPurpose.in_loan, ReportPurpose.post_loan}
    ),
    RequesterKind.operator: frozenset(ReportPurpose),
    RequesterKind.regulator: frozenset({ReportPurpose.supervision}),
    RequesterKind.anonymous: frozenset({ReportPurpose.public_inquiry}),
    RequesterKind.provider: frozenset(),
    RequesterKind.enterprise: frozenset({ReportPurpose.self_query}),
}


# ---- small helpers ------------------------------------------------------------------------------


def requester_of(principal: Principal | None) -> Requester:
    """The requester a principal stands for (``None``: an anonymous web visitor)."""
    if principal is None:
        return Requester(kind=RequesterKind.anonymous, code=None)
    return Requester(kind=RequesterKind(principal.kind.value), code=principal.code)


def check_purpose(requester: Requester, purpose: ReportPurpose) -> None:
    allowed = ALLOWED_PURPOSES.get(requester.kind, frozenset())
    if purpose not in allowed:
        choices = ", ".join(p.value for p in ReportPurpose if p in allowed) or "none"
        raise PurposeNotAllowed(
            f"a {requester.kind.value} may not request a report for purpose {purpose.value!r} "
            f"(allowed: {choices}); reports serve financing only (国办发〔2021〕52号 §10)",
            purpose=purpose.value,
        )


def purpose_info(purpose: ReportPurpose) -> PurposeInfo:
    name, name_en = PURPOSE_NAMES[purpose]
    return PurposeInfo(code=purpose, name=name, name_en=name_en)


def disclosed_fields(item: Item) -> list[FieldDef]:
    """The fields a public report shows: below level 3, unmasked, not the subject's own USCC."""
    return [
        f
        for f in item.fields
        if f.name != "uscc" and (f.level or item.level) < DataLevel.sensitive and f.mask is None
    ]


def _restriction(item: Item) -> Restriction | None:
    if item.is_public:
        return None
    if item.authorization_required:
        return Restriction.authorization_required
    if item.disclosure is DisclosureAttribute.on_request:
        return Restriction.on_request
    return Restriction.not_public


def _section_of(catalog: Catalog, item: Item) -> str:
    section = catalog.category(item.category).report_section
    if item.is_public and section == SectionCode.authorized:
        return SectionCode.public_records.value
    return section


def _china_date(moment: datetime) -> date:
    return moment.astimezone(CHINA_TZ).date()


def _value(raw: Any) -> FieldValue:
    if raw is None or isinstance(raw, str | int | float | bool):
        return raw
    return str(raw)


def _public_key(item: Item, shown: set[str], record_key: str) -> str:
    """The record key, or a digest of it when a key field is not shown in this report."""
    if all(k == "uscc" or k in shown for k in item.natural_key):
        return record_key
    return hashlib.sha256(f"{item.code}{KEY_SEPARATOR}{record_key}".encode()).hexdigest()[:32]


def _record(item: Item, fields: Sequence[FieldDef], record: RecordView) -> ReportRecord:
    shown = {f.name for f in fields}
    status_name, status_name_en = wording.STATUS_NAMES[record.status]
    return ReportRecord(
        fields=[
            ReportField(
                name=f.name,
                label=f.label,
                label_en=f.label_en,
                type=f.type.value,
                value=_value(record.payload.get(f.name)),
                unit=f.unit,
            )
            for f in fields
        ],
        event_date=record.event_date,
        received_at=record.received_at,
        as_of=record.event_date or _china_date(record.received_at),
        status=record.status,
        status_name=status_name,
        status_name_en=status_name_en,
        record_key=_public_key(item, shown, record.record_key),
        version=record.version,
    )


def _named(obj: Any) -> Named:
    return Named(code=obj.code, name=obj.name, name_en=obj.name_en)


def _item(catalog: Catalog, item: Item, records: Sequence[RecordView]) -> ReportItem:
    restriction = _restriction(item)
    category, provider = catalog.category(item.category), catalog.provider(item.provider)
    base: dict[str, Any] = {
        "item_code": item.code,
        "name": item.name,
        "name_en": item.name_en,
        "category": _named(category),
        "provider": _named(provider),
        "self_reported": category.report_section == SectionCode.self_reported,
    }
    if restriction is not None:
        note, note_en = wording.RESTRICTION_NOTES[restriction]
        return ReportItem(
            **base,
            available=False,
            restriction=restriction,
            restriction_note=note,
            restriction_note_en=note_en,
            as_of=None,
            records=[],
            total=None,
        )
    fields = disclosed_fields(item)
    shown = [_record(item, fields, r) for r in records]
    return ReportItem(
        **base,
        available=True,
        restriction=None,
        restriction_note=None,
        restriction_note_en=None,
        as_of=max((r.as_of for r in shown), default=None),
        records=shown,
        total=len(shown),
    )


def _in_force(rule: wording.FlagRule, record: RecordView, today: date) -> bool:
    if rule.end_field:
        end = record.payload.get(rule.end_field)
        if end and str(end)[:10] <= today.isoformat():
            return False
    if rule.amount_field:
        try:
            return float(record.payload.get(rule.amount_field) or 0) > 0
        except (TypeError, ValueError):
            return True
    return True


def _flags(catalog: Catalog, by_item: dict[str, list[RecordView]], today: date) -> list[ReportFlag]:
    public = {i.code for i in catalog.items if i.is_public}
    flags = []
    for rule in wording.FLAG_RULES:
        if rule.item_code not in public:
            continue
        count = sum(1 for r in by_item.get(rule.item_code, ()) if _in_force(rule, r, today))
        flags.append(
            ReportFlag(
                code=rule.code,
                name=rule.name,
                name_en=rule.name_en,
                item_code=rule.item_code,
                active=count > 0,
                active_count=count,
            )
        )
    return flags


def _subject(entity: EntityRead) -> ReportSubject:
    kind = reference.entity_types().get(entity.entity_type)
    return ReportSubject(
        uscc=entity.uscc,
        name=entity.name,
        entity_type=entity.entity_type,
        entity_type_name=entity.entity_type_name,
        entity_type_name_en=kind.name_en if kind else entity.entity_type,
        region_code=entity.region_code,
        region_name=entity.region_full_name or entity.region_name,
        industry_code=entity.industry_code,
        industry_name=entity.industry_name,
        industry_section=entity.industry_section,
        industry_section_name=entity.industry_section_name,
        size_class=entity.size_class,
        size_class_name=entity.size_class_name,
        status=entity.status,
        legal_rep_name=entity.legal_rep_name,
        registered_capital=entity.registered_capital,
        establish_date=entity.establish_date,
    )


def _section_order(catalog: Catalog) -> list[str]:
    known = [s.value for s in SectionCode]
    extra = [c.report_section for c in catalog.categories if c.report_section not in known]
    # sections the catalog adds go before self-reported information and the notices
    return [*known[:3], *dict.fromkeys(extra), known[3]]


# ---- assembly -----------------------------------------------------------------------------------


def build_report(
    session: Session,
    *,
    catalog: Catalog,
    uscc: str,
    requester: Principal | None,
    purpose: ReportPurpose,
    node_id: str,
    now: datetime | None = None,
) -> CreditReport:
    """Assemble the public credit report of ``uscc`` (reads only; logs nothing)."""
    who = requester_of(requester)
    check_purpose(who, purpose)
    entity = entities_service.get_entity(session, uscc=uscc)
    generated_at = now or utcnow()
    public_codes = [i.code for i in catalog.items if i.is_public]
    by_item: dict[str, list[RecordView]] = defaultdict(list)
    for record in records_service.current_records(
        session, uscc=entity.uscc, item_codes=public_codes
    ):
        by_item[record.item_code].append(record)

    category_rank = {c.code: n for n, c in enumerate(catalog.categories)}
    ordered = sorted(
        enumerate(catalog.items), key=lambda pair: (category_rank[pair[1].category], pair[0])
    )
    grouped: dict[str, list[ReportItem]] = defaultdict(list)
    counts: dict[str, int] = {}
    for _, item in ordered:
        entry = _item(catalog, item, by_item.get(item.code, ()))
        grouped[_section_of(catalog, item)].append(entry)
        if entry.available:
            counts[item.category] = counts.get(item.category, 0) + (entry.total or 0)

    sections = []
    for code in _section_order(catalog):
        if not grouped.get(code):
            continue
        title, title_en = wording.SECTION_TITLES.get(code, (code, code))
        note, note_en = wording.SECTION_NOTES.get(code, (None, None))
        sections.append(
            ReportSection(
                code=code,
                title=title,
                title_en=title_en,
                note=note,
                note_en=note_en,
                items=grouped[code],
            )
        )

    received = [r.received_at for rs in by_item.values() for r in rs]
    data_as_of = _china_date(max(received)) if received else _china_date(generated_at)
    info = purpose_info(purpose)
    rating_note, rating_note_en = wording.RATING_NOTE
    return CreditReport(
        report_id=uuid.uuid4().hex,
        generated_at=generated_at,
        node_id=node_id,
        data_as_of=data_as_of,
        subject=_subject(entity),
        requester=who,
        purpose=info,
        summary=ReportSummary(
            counts=[
                CategoryCount(
                    code=c.code, name=c.name, name_en=c.name_en, record_count=counts[c.code]
                )
                for c in catalog.categories
                if c.code in counts
            ],
            flags=_flags(catalog, by_item, _china_date(generated_at)),
            record_count=sum(counts.values()),
            rating_note=rating_note,
            rating_note_en=rating_note_en,
        ),
        sections=sections,
        notices=wording.notices(info, data_as_of),
    )
