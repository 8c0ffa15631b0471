"""Assembling standardized credit reports (V2), rendered per viewer (G2, G5).

Every item passes the policy decision point (``rongxin.access.policy``), which also reads the
records: nobody else does. Public sections for any institution, within them only fields below
data level 3 (``legal_rep_id_number`` never appears); items that need the enterprise's
authorization appear as placeholders with their names and the reason — their records are not
even read — unless an active authorization covers them, and then with fields masked
(DOMAIN.md §3). The information subject sees all of its own data, unmasked. Interface items are
asked of their provider at query time (接口调用); verification items never show values.

Order (DOMAIN.md §10): header, summary, basic information, public records by category in
catalog order, authorized placeholders, self-reported information (labelled 自主填报), notices.
Sections follow each category's ``report_section`` (the catalog is data); a publicly disclosable
item of a category the catalog places under ``authorized`` (欠税公告, 专利 …) is public record
information and is shown under ``public_records``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from rongxin.access import policy
from rongxin.access.schemas import Principal
from rongxin.catalog.schemas import (
    Catalog,
    DisclosureAttribute,
    FieldDef,
    Item,
    SharingAttribute,
    SharingMode,
)
from rongxin.db.base import utcnow
from rongxin.entities import reference
from rongxin.entities import service as entities_service
from rongxin.entities.schemas import EntityRead
from rongxin.rating import service as rating_service
from rongxin.rating.indicators import SCALE
from rongxin.records.schemas import RecordStatus, RecordView
from rongxin.reports import wording
from rongxin.reports.document import ReportDocument
from rongxin.reports.errors import PurposeNotAllowed
from rongxin.reports.schemas import (
    CHINA_TZ,
    PURPOSE_NAMES,
    SCHEMA_VERSION,
    FieldValue,
    ReportPurpose,
    RequesterKind,
    Restriction,
    SectionCode,
)
from rongxin.rights import objections
from rongxin.rights import service as rights_service

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
    RequesterKind.enterprise: frozenset({ReportPurpose.self_query, ReportPurpose.public_inquiry}),
}


# ---- small helpers ------------------------------------------------------------------------------


def new_report_id() -> str:
    """A report id: 32 hex digits, time-ordered like a UUIDv7 (48 bits of milliseconds, then 80
    random bits, so still unguessable). Issuance rows and their sources are keyed by it: ordered
    ids append to their indexes instead of dirtying a random page per report."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def requester_of(principal: Principal | None) -> dict[str, Any]:
    """The report's ``requester`` for a principal (``None``: an anonymous web visitor)."""
    if principal is None:
        return {"kind": RequesterKind.anonymous, "code": None, "user_id": None}
    return {
        "kind": RequesterKind(principal.kind.value),
        "code": principal.code,
        "user_id": principal.user_id,
    }


def check_purpose(kind: RequesterKind, purpose: ReportPurpose) -> None:
    allowed = ALLOWED_PURPOSES.get(kind, frozenset())
    if purpose not in allowed:
        choices = ", ".join(p.value for p in ReportPurpose if p in allowed) or "none"
        raise PurposeNotAllowed(
            f"a {kind.value} may not request a report for purpose {purpose.value!r} "
            f"(allowed: {choices}); reports serve financing only (国办发〔2021〕52号 §10)",
            purpose=purpose.value,
        )


def purpose_info(purpose: ReportPurpose) -> dict[str, Any]:
    name, name_en = PURPOSE_NAMES[purpose]
    return {"code": purpose, "name": name, "name_en": name_en}


def _restriction(item: Item) -> Restriction:
    """Why an item's records are not shown to this viewer."""
    if item.sharing is SharingAttribute.none:
        return Restriction.not_shared
    if item.sharing_mode is SharingMode.verification:
        return Restriction.verification_only
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
    """The record key, or a digest of it when a key field is not shown (or shown masked)."""
    if all(k == "uscc" or k in shown for k in item.natural_key):
        return record_key
    return hashlib.sha256(f"{item.code}{KEY_SEPARATOR}{record_key}".encode()).hexdigest()[:32]


# The report is built as plain dicts in the exact shape of ``CreditReport`` (a ReportDocument):
# the JSON API serialises them as they are; renderings validate them into the model once.


def _record(
    item: Item,
    fields: Sequence[FieldDef],
    record: RecordView,
    *,
    unmasked: bool,
    note: dict[str, Any] | None = None,
) -> dict[str, Any]:
    shown = {f.name for f in fields if unmasked or f.mask is None}  # seen as stored
    status_name, status_name_en = wording.STATUS_NAMES[record.status]
    payload = record.payload
    return {
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "label_en": f.label_en,
                "type": f.type.value,
                "value": _value(payload.get(f.name)),
                "unit": f.unit,
            }
            for f in fields
        ],
        "event_date": record.event_date,
        "received_at": record.received_at,
        "as_of": record.event_date or _china_date(record.received_at),
        "status": record.status,
        "status_name": status_name,
        "status_name_en": status_name_en,
        "record_key": _public_key(item, shown, record.record_key),
        "version": record.version,
        "objection": note if record.status is RecordStatus.annotated else None,
    }


def _named(obj: Any) -> dict[str, str]:
    return {"code": obj.code, "name": obj.name, "name_en": obj.name_en}


def _item_base(catalog: Catalog, item: Item) -> dict[str, Any]:
    category, provider = catalog.category(item.category), catalog.provider(item.provider)
    return {
        "item_code": item.code,
        "name": item.name,
        "name_en": item.name_en,
        "category": _named(category),
        "provider": _named(provider),
        "self_reported": category.report_section == SectionCode.self_reported,
    }


def _placeholder(base: dict[str, Any], restriction: Restriction) -> dict[str, Any]:
    note, note_en = wording.RESTRICTION_NOTES[restriction]
    return {
        **base,
        "available": False,
        "restriction": restriction,
        "restriction_note": note,
        "restriction_note_en": note_en,
        "access": None,
        "authorization_id": None,
        "as_of": None,
        "records": [],
        "total": None,
    }


def _objection_notes(
    session: Session, uscc: str, by_item: dict[str, list[RecordView]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The objection shown with each annotated record (read only when there is one)."""
    if not any(r.status is RecordStatus.annotated for rs in by_item.values() for r in rs):
        return {}
    return {
        key: {
            "objection_id": o.id,
            "reason": o.reason,
            "check_result": o.check_result,
            "closed_at": o.closed_at,
        }
        for key, o in objections.undecided_notes(session, uscc=uscc).items()
    }


@dataclass(frozen=True, slots=True)
class _Layout:
    """What a report takes from the catalog alone, worked out once per catalog: the items in
    report order with their sections, each item's fixed fields and its placeholders. Reports
    share these dicts; nothing may change them."""

    ordered: tuple[tuple[Item, str], ...]
    sections: tuple[str, ...]
    bases: dict[str, dict[str, Any]]
    placeholders: dict[tuple[str, Restriction], dict[str, Any]]


_LAYOUTS: dict[int, tuple[Catalog, _Layout]] = {}  # by id(catalog); the catalog is kept alive


def _layout(catalog: Catalog) -> _Layout:
    found = _LAYOUTS.get(id(catalog))
    if found is not None and found[0] is catalog:
        return found[1]
    rank = {c.code: n for n, c in enumerate(catalog.categories)}
    ordered = sorted(enumerate(catalog.items), key=lambda pair: (rank[pair[1].category], pair[0]))
    bases = {item.code: _item_base(catalog, item) for item in catalog.items}
    layout = _Layout(
        ordered=tuple((item, _section_of(catalog, item)) for _, item in ordered),
        sections=tuple(_section_order(catalog)),
        bases=bases,
        placeholders={
            (item.code, restriction): _placeholder(bases[item.code], restriction)
            for item in catalog.items
            for restriction in Restriction
        },
    )
    if len(_LAYOUTS) >= 8:  # catalogs are few (one per node); tests make many
        _LAYOUTS.clear()
    _LAYOUTS[id(catalog)] = (catalog, layout)
    return layout


def _item(
    layout: _Layout, read: policy.ItemRead, notes: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, Any]:
    item, decision = read.item, read.decision
    if read.unavailable:
        return layout.placeholders[item.code, Restriction.provider_unavailable]
    if not decision.allowed or item.sharing_mode is SharingMode.verification:
        return layout.placeholders[item.code, _restriction(item)]
    base = layout.bases[item.code]
    fields = policy.visible_fields(item, decision)
    shown = [
        _record(
            item, fields, r, unmasked=decision.unmasked, note=notes.get((item.code, r.record_key))
        )
        for r in read.records
    ]
    return {
        **base,
        "available": True,
        "restriction": None,
        "restriction_note": None,
        "restriction_note_en": None,
        "access": decision.ground.value if decision.ground else None,
        "authorization_id": decision.authorization_id,
        "as_of": max((r["as_of"] for r in shown), default=None),
        "records": shown,
        "total": len(shown),
    }


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


def _flags(
    catalog: Catalog, by_item: dict[str, list[RecordView]], today: date
) -> list[dict[str, Any]]:
    public = {i.code for i in catalog.items if i.is_public}
    flags = []
    for rule in wording.FLAG_RULES:
        if rule.item_code not in public:
            continue
        count = sum(1 for r in by_item.get(rule.item_code, ()) if _in_force(rule, r, today))
        flags.append(
            {
                "code": rule.code,
                "name": rule.name,
                "name_en": rule.name_en,
                "item_code": rule.item_code,
                "active": count > 0,
                "active_count": count,
            }
        )
    return flags


def _subject(entity: EntityRead) -> dict[str, Any]:
    kind = reference.entity_types().get(entity.entity_type)
    return {
        "uscc": entity.uscc,
        "name": entity.name,
        "entity_type": entity.entity_type,
        "entity_type_name": entity.entity_type_name,
        "entity_type_name_en": kind.name_en if kind else entity.entity_type,
        "region_code": entity.region_code,
        "region_name": entity.region_full_name or entity.region_name,
        "industry_code": entity.industry_code,
        "industry_name": entity.industry_name,
        "industry_section": entity.industry_section,
        "industry_section_name": entity.industry_section_name,
        "size_class": entity.size_class,
        "size_class_name": entity.size_class_name,
        "status": entity.status,
        "legal_rep_name": entity.legal_rep_name,
        "registered_capital": entity.registered_capital,
        "establish_date": entity.establish_date,
    }


def _rating(
    session: Session, requester: Principal | None, uscc: str, purpose: ReportPurpose
) -> tuple[dict[str, Any] | None, tuple[str, str]]:
    """The summary's rating (``ReportRating`` as plain data) and its note: the latest rating,
    to whoever may see it (``policy.rating_refusal``; the report's request checks are made)."""
    if policy.rating_refusal(requester, uscc=uscc, purpose=purpose) is not None:
        return None, wording.rating_note("not_shown")
    found = rating_service.latest_rating(session, uscc=uscc)
    if found is None:
        return None, wording.rating_note("unrated")
    note = wording.rating_note(
        "rated",
        system=found.system_code,
        version=found.system_version,
        day=found.as_of,
        scale=SCALE,
    )
    return {
        "grade": found.grade,
        "score": found.score,
        "scale": SCALE,
        "as_of": found.as_of,
        "system_code": found.system_code,
        "system_version": found.system_version,
        "run_id": found.run_id,
    }, note


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
    interface: policy.InterfaceFetcher | None = None,
) -> ReportDocument:
    """Assemble the credit report of ``uscc`` as ``requester`` may see it (reads only; logs
    nothing). Every item passes the policy decision point; ``interface`` asks providers of
    interface items at query time."""
    who = requester_of(requester)
    check_purpose(who["kind"], purpose)
    entity = entities_service.get_entity(session, uscc=uscc)
    generated_at = now or utcnow()
    reads = {
        r.item.code: r
        for r in policy.read_records(
            session,
            principal=requester,
            uscc=entity.uscc,
            items=catalog.items,
            purpose=purpose,
            at=generated_at,
            interface=interface,
        )
    }
    by_item = {code: r.records for code, r in reads.items() if r.records}
    notes = _objection_notes(session, entity.uscc, by_item)

    layout = _layout(catalog)
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    counts: dict[str, int] = {}
    for item, section in layout.ordered:
        entry = _item(layout, reads[item.code], notes)
        grouped[section].append(entry)
        if entry["available"]:
            counts[item.category] = counts.get(item.category, 0) + entry["total"]

    sections = []
    for code in layout.sections:
        if not grouped.get(code):
            continue
        title, title_en = wording.SECTION_TITLES.get(code, (code, code))
        shown = any(i["available"] for i in grouped[code])
        note_key = f"{code}.shown" if shown and f"{code}.shown" in wording.SECTION_NOTES else code
        note, note_en = wording.SECTION_NOTES.get(note_key, (None, None))
        sections.append(
            {
                "code": code,
                "title": title,
                "title_en": title_en,
                "note": note,
                "note_en": note_en,
                "items": grouped[code],
            }
        )

    received = [r.received_at for rs in by_item.values() for r in rs]
    data_as_of = _china_date(max(received)) if received else _china_date(generated_at)
    info = purpose_info(purpose)
    rating, (rating_note, rating_note_en) = _rating(session, requester, entity.uscc, purpose)
    grounds = {r.decision.ground for r in reads.values() if r.decision.allowed}
    return ReportDocument(
        {
            "report_id": new_report_id(),
            "schema_version": SCHEMA_VERSION,
            "generated_at": generated_at,
            "node_id": node_id,
            "data_as_of": data_as_of,
            "subject": _subject(entity),
            "requester": who,
            "purpose": info,
            "summary": {
                "counts": [
                    {**_named(c), "record_count": counts[c.code]}
                    for c in catalog.categories
                    if c.code in counts
                ],
                "flags": _flags(catalog, by_item, _china_date(generated_at)),
                "record_count": sum(counts.values()),
                "rating": rating,
                "rating_note": rating_note,
                "rating_note_en": rating_note_en,
                "broken_commitments": rights_service.broken_commitments(session, uscc=entity.uscc),
            },
            "sections": sections,
            "notices": wording.notices(
                info["name"],
                info["name_en"],
                data_as_of,
                authorized=policy.Ground.authorized in grounds,
                own=policy.Ground.subject in grounds,
            ),
        }
    )
