"""The policy decision point: who may read which information about whom, and how (G2, G5, Z2).

Every read of credit records goes through this module — reports, verification, interface
calls, batch push — and a test (tests/records/test_record_access.py) fails if code elsewhere
calls the record readers. One decision combines:

* the viewer's role (``PrincipalKind``), and whether it is the information subject itself;
* the item's data level, sharing attribute (共享属性) and disclosure attribute (公开属性);
* the purpose (institutions: financing only, Z2);
* for anything not publicly disclosable, an active enterprise authorization (经企业授权)
  covering the item, the purpose and the access mode;
* the mode: viewing records, verifying a claimed value (数据核验), or an interface call.

A decision also says how the viewer sees fields: the subject and the providing department see
everything; everyone else sees fields of level 3 and above only under an authorization, and
fields carrying a mask kind masked (DOMAIN.md §3).

Request-level conditions (the institution is onboarded and active, its allowed purposes and
quota) are checked where a request starts (``rongxin.access.service.principal_is_active`` and
the institutions domain); this module decides per item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

import polars as pl
from sqlalchemy.orm import Session

from rongxin.access import masking
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import FINANCING_PURPOSES, Principal, PrincipalKind, Purpose
from rongxin.catalog.schemas import FieldDef, Item, SharingAttribute, SharingMode
from rongxin.consent import service as consent_service
from rongxin.consent.schemas import AuthorizationRead
from rongxin.db.base import utcnow
from rongxin.institutions import quota
from rongxin.institutions import service as institutions_service
from rongxin.institutions.errors import InstitutionNotActive
from rongxin.records import service as records_service
from rongxin.records.schemas import (
    ALL_STATUSES,
    VISIBLE_STATUSES,
    RecordChange,
    RecordView,
)


class AccessMode(StrEnum):
    view = "view"  # read records (reports, self-query)
    verify = "verify"  # 数据核验: check a claimed value; values never come back
    interface = "interface"  # 接口调用: the provider is asked at query time


class Ground(StrEnum):
    """On what ground an allowed read is allowed."""

    public = "public"  # publicly disclosable (公开)
    authorized = "authorized"  # an active enterprise authorization (经企业授权)
    subject = "subject"  # the information subject itself
    provider = "provider"  # the providing department's own data
    platform = "platform"  # the platform's own check (real-name registration); answers only


#: purposes each role may name when reading public information
PUBLIC_PURPOSES: Final[dict[PrincipalKind | None, frozenset[Purpose]]] = {
    None: frozenset({Purpose.public_inquiry}),  # anonymous visitors (public credit portals)
    PrincipalKind.institution: FINANCING_PURPOSES,
    PrincipalKind.operator: frozenset(Purpose),
    PrincipalKind.regulator: frozenset({Purpose.supervision}),
    PrincipalKind.enterprise: frozenset({Purpose.public_inquiry, Purpose.self_query}),
    PrincipalKind.provider: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one item: allowed or not, why, under which authorization, and whether
    the viewer sees fields unmasked."""

    item_code: str
    allowed: bool
    reason: str
    ground: Ground | None = None
    authorization: AuthorizationRead | None = None

    @property
    def authorization_id(self) -> str | None:
        return self.authorization.id if self.authorization is not None else None

    @property
    def unmasked(self) -> bool:
        """The viewer sees every field as stored (the subject, the providing department)."""
        return self.ground in (Ground.subject, Ground.provider)

    @property
    def authorized(self) -> bool:
        """Allowed because of an enterprise authorization (not because the item is public)."""
        return self.ground is Ground.authorized


def _who(kind: PrincipalKind | None) -> str:
    if kind is None:
        return "an anonymous visitor"
    return f"{'an' if kind.value[0] in 'aeiou' else 'a'} {kind.value}"


def _deny(item: Item, reason: str) -> Decision:
    return Decision(item_code=item.code, allowed=False, reason=reason)


def decide(
    session: Session,
    *,
    principal: Principal | None,
    uscc: str,
    item: Item,
    purpose: Purpose,
    mode: AccessMode = AccessMode.view,
    at: datetime | None = None,
    grants: Sequence[AuthorizationRead] | None = None,
) -> Decision:
    """May ``principal`` read ``item`` about ``uscc`` for ``purpose`` in ``mode``? (reads only)

    ``grants``: the institution's active authorizations for this entity and purpose, when the
    caller decides many items at once (read once instead of once per item).
    """
    kind = principal.kind if principal is not None else None
    if principal is not None and kind is PrincipalKind.enterprise and principal.code == uscc:
        if purpose is not Purpose.self_query:
            return _deny(item, "the information subject reads its own data as self_query")
        return Decision(item.code, True, "the information subject itself", Ground.subject)
    if principal is not None and kind is PrincipalKind.provider:
        if item.provider != principal.code:
            return _deny(item, f"a provider reads only its own items; {item.code} is not")
        return Decision(item.code, True, "the providing department's own data", Ground.provider)
    if item.sharing is SharingAttribute.none:
        return _deny(item, f"{item.code} is not shared (不予共享)")
    if purpose not in PUBLIC_PURPOSES.get(kind, frozenset()):
        return _deny(item, f"{_who(kind)} may not read for purpose {purpose.value}")
    if item.is_public and mode is AccessMode.view:
        return Decision(item.code, True, "publicly disclosable (公开)", Ground.public)
    if principal is None or kind is not PrincipalKind.institution:
        return _deny(item, f"{item.code} is not public; {_who(kind)} may not read it")
    if grants is None:
        grants = consent_service.active_authorizations(
            session, institution_code=principal.code, uscc=uscc, purpose=purpose, at=at or utcnow()
        )
    grant = _grant_for(grants, item=item, mode=mode)
    if grant is None:
        return _deny(
            item,
            f"{item.code} needs the enterprise's authorization (经企业授权) for purpose "
            f"{purpose.value}; none is active",
        )
    return Decision(item.code, True, "authorized", Ground.authorized, authorization=grant)


def _grant_for(
    grants: Sequence[AuthorizationRead], *, item: Item, mode: AccessMode
) -> AuthorizationRead | None:
    """The authorization covering ``item`` in ``mode`` (``grants`` are active ones, longest
    lasting first, as consent returns them)."""
    wanted = "verify" if mode is AccessMode.verify else "view"
    for grant in grants:
        if (
            item.code in grant.items
            and grant.allows_mode(wanted)
            and not grant.needs_reconfirmation
        ):
            return grant
    return None


def check_request(session: Session, *, principal: Principal | None, purpose: Purpose) -> None:
    """Request-level conditions, before any item is decided: an institution must be approved
    for the purpose it names (its onboarding sets them, Z2). Being onboarded and active is
    checked when it authenticates (``rongxin.access.service.principal_is_active``)."""
    if principal is None or principal.kind is not PrincipalKind.institution:
        return
    if purpose not in FINANCING_PURPOSES:
        return  # never allowed to institutions: every item decision refuses it
    allowed = institutions_service.allowed_purposes(session, principal.code)
    if purpose not in allowed:
        names = ", ".join(sorted(p.value for p in allowed)) or "none"
        raise Forbidden(
            f"institution {principal.code} is not approved for purpose {purpose.value} "
            f"(approved: {names}); the platform operator sets purposes at onboarding"
        )


def count_read(
    session: Session, *, principal: Principal | None, at: datetime | None = None
) -> None:
    """Count one read against an institution's daily quota (429 when it is used up). Called
    where the read is logged, so that refused reads count nothing."""
    refusal = count_reads(session, principals=[principal], at=at)[0]
    if refusal is not None:
        raise refusal


def count_reads(
    session: Session, *, principals: Sequence[Principal | None], at: datetime | None = None
) -> list[Exception | None]:
    """:func:`count_read` for a batch of reads (one per principal, in order), one quota
    statement per institution: for each read ``None`` when counted, else why it was refused
    (the quota used up, the institution no longer active). Refused reads count nothing."""
    outcome: list[Exception | None] = [None] * len(principals)
    by_institution: dict[str, list[int]] = {}
    for n, principal in enumerate(principals):
        if principal is not None and principal.kind is PrincipalKind.institution:
            by_institution.setdefault(principal.code, []).append(n)
    for code, positions in by_institution.items():
        refusal: Exception | None
        try:
            counted, refusal = quota.consume_up_to(
                session, institution_code=code, n=len(positions), at=at
            )
        except InstitutionNotActive as exc:  # no longer active: none of its reads may be handed out
            counted, refusal = 0, exc
        for n in positions[counted:]:
            outcome[n] = refusal
    return outcome


def require(
    session: Session,
    *,
    principal: Principal | None,
    uscc: str,
    item: Item,
    purpose: Purpose,
    mode: AccessMode = AccessMode.view,
    at: datetime | None = None,
) -> Decision:
    """Like :func:`decide`, but raises :class:`Forbidden` (403) with the reason when denied."""
    decision = decide(
        session, principal=principal, uscc=uscc, item=item, purpose=purpose, mode=mode, at=at
    )
    if not decision.allowed:
        raise Forbidden(decision.reason)
    return decision


# ---- what a viewer sees of an item's fields ---------------------------------------------------


def visible_fields(item: Item, decision: Decision) -> Sequence[FieldDef]:
    """The fields shown under ``decision`` (the subject's own ``uscc`` field is never repeated).

    Public access shows fields below level 3; authorized access and the subject show all.
    """
    if not decision.allowed:
        return ()
    return item.all_fields if decision.unmasked or decision.authorized else item.public_fields


def present(item: Item, decision: Decision, payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` reduced to the visible fields (and the subject's ``uscc``), masked as the
    decision requires."""
    out: dict[str, Any] = {"uscc": payload["uscc"]} if "uscc" in payload else {}
    for f in visible_fields(item, decision):
        value = payload.get(f.name)
        if f.mask is not None and not decision.unmasked:
            value = masking.mask(f.mask, value)
        out[f.name] = value
    return out


# ---- the readers: the only way to records outside the store ----------------------------------


@dataclass(slots=True)
class ItemRead:
    """One item as a viewer may see it: the decision, and the records when allowed."""

    item: Item
    decision: Decision
    records: list[RecordView] = field(default_factory=list)
    unavailable: bool = False  # an interface item whose provider did not answer


#: asks a provider at query time for an interface item's records (接口调用, M2), citing the
#: decision's authorization; returns ``None`` when the provider is unavailable
InterfaceFetcher = Callable[[Item, Decision], Sequence[RecordView] | None]


def read_records(
    session: Session,
    *,
    principal: Principal | None,
    uscc: str,
    items: Sequence[Item],
    purpose: Purpose,
    at: datetime | None = None,
    interface: InterfaceFetcher | None = None,
) -> list[ItemRead]:
    """Decide every item, then read the records of the allowed ones: physically aggregated
    items from the store (one query), interface items from their provider (``interface``), and
    verification items never (their values stay with the provider).

    Records of denied items are not even read. Payloads are masked and reduced to the visible
    fields, so callers cannot show more than the decision allows.
    """
    when = at or utcnow()
    grants: Sequence[AuthorizationRead] | None = None
    if (
        principal is not None
        and principal.kind is PrincipalKind.institution
        and any(not i.is_public for i in items)
    ):
        grants = consent_service.active_authorizations(
            session, institution_code=principal.code, uscc=uscc, purpose=purpose, at=when
        )
    reads = [
        ItemRead(
            item,
            decide(
                session,
                principal=principal,
                uscc=uscc,
                item=item,
                purpose=purpose,
                at=when,
                grants=grants,
            ),
        )
        for item in items
    ]
    stored: dict[str, ItemRead] = {}
    for read in reads:
        if not read.decision.allowed:
            continue
        mode = read.item.sharing_mode
        if mode is SharingMode.physical:
            stored[read.item.code] = read
        elif mode is SharingMode.interface:
            fetched = interface(read.item, read.decision) if interface is not None else None
            if fetched is None:
                read.unavailable = True
            else:
                read.records = [_presented(read, r) for r in fetched if _in_range(read, r)]
    if stored:
        # the subject sees its whole history (repaired, expired …); everyone else what is
        # published (G3, G4)
        own = (
            principal is not None
            and principal.kind is PrincipalKind.enterprise
            and principal.code == uscc
        )
        statuses = ALL_STATUSES if own else VISIBLE_STATUSES
        records = records_service.current_records(
            session, uscc=uscc, item_codes=list(stored), statuses=statuses
        )
        for record in records:
            read = stored[record.item_code]
            if _in_range(read, record):
                read.records.append(_presented(read, record))
    return reads


def _in_range(read: ItemRead, record: RecordView) -> bool:
    """Within the authorization's data date range (记录日期), when read under one."""
    grant = read.decision.authorization
    if grant is None:
        return True
    day = record.event_date or record.received_at.date()
    return grant.data_from_date <= day <= grant.data_to_date


def _presented(read: ItemRead, record: RecordView) -> RecordView:
    record.payload = present(read.item, read.decision, record.payload)
    return record


def platform_check(item: Item, reason: str) -> Decision:
    """A check the platform itself makes (e.g. real-name registration against registration
    data), whose answer alone — verified or not — ever leaves it."""
    return Decision(item.code, True, reason, Ground.platform)


def verification_records(
    session: Session, *, uscc: str, item: Item, decision: Decision
) -> list[RecordView]:
    """Current records of ``item`` about ``uscc`` for a verification (数据核验, M3): the caller
    compares claimed values with them and answers match / no match — values never leave.

    Needs an allowed decision in verify mode (or :func:`platform_check`); under an
    authorization, only records inside its data date range take part.
    """
    if not decision.allowed or decision.item_code != item.code:
        raise Forbidden(decision.reason if not decision.allowed else "decision is for another item")
    read = ItemRead(item, decision)
    records = records_service.current_records(session, uscc=uscc, item_codes=[item.code])
    return [r for r in records if _in_range(read, r)]


def shared_changes_since(
    session: Session,
    *,
    items: Iterable[Item],
    after_seq: int,
    limit: int,
    region_prefix: str | None = None,
    industry_sections: Sequence[str] | None = None,
) -> list[RecordChange]:
    """Changes of publicly disclosable items for batch push (V3), payloads reduced to the
    fields public access shows. Non-public items are never pushed."""
    public = {i.code: i for i in items if i.is_public and i.sharing is not SharingAttribute.none}
    if not public:
        return []
    changes = records_service.changes_since(
        session,
        after_seq=after_seq,
        limit=limit,
        item_codes=sorted(public),
        region_prefix=region_prefix,
        industry_sections=industry_sections,
    )
    public_view = Decision("", True, "publicly disclosable (公开)", Ground.public)
    for change in changes:
        change.payload = present(public[change.item_code], public_view, change.payload)
    return changes


def evaluation_records(
    session: Session,
    *,
    items: Sequence[Item],
    fields: Sequence[str],
    usccs: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Every entity's current records of ``items`` for the platform's own full-coverage
    evaluation (全覆盖评价, E1), in long form (``records_service.evaluation_frame``).

    Institutions see the rating, so it rests only on what public access shows: publicly
    disclosable, shared items and their publicly visible fields. Anything else is refused
    before a record is read.
    """
    public_view = Decision("", True, "publicly disclosable (公开)", Ground.public)
    wanted = set(fields)
    for item in items:
        if not item.is_public or item.sharing is SharingAttribute.none:
            raise Forbidden(
                f"item {item.code} is not publicly disclosable; the platform's own rating uses "
                "public information only (institutions' scorecards run on authorized data)"
            )
        visible = {f.name for f in visible_fields(item, public_view)}
        hidden = sorted(wanted & {f.name for f in item.fields} - visible)
        if hidden:
            raise Forbidden(
                f"fields {', '.join(hidden)} of item {item.code} are not shown publicly; the "
                "platform's own rating may not use them"
            )
    return records_service.evaluation_frame(
        session, item_codes=[i.code for i in items], fields=sorted(wanted), usccs=usccs
    )


def check_rating_view(
    session: Session, *, principal: Principal | None, uscc: str, purpose: Purpose
) -> None:
    """May ``principal`` see the platform's rating of ``uscc`` for ``purpose``?

    The rating rests on public information only (:func:`evaluation_records`), so whoever may
    read public information for the purpose may see it — an institution only for a financing
    purpose it is approved for. An enterprise sees its own rating (``self_query``) only.
    """
    refusal = rating_refusal(principal, uscc=uscc, purpose=purpose)
    if refusal is not None:
        raise Forbidden(refusal)
    check_request(session, principal=principal, purpose=purpose)


def rating_refusal(principal: Principal | None, *, uscc: str, purpose: Purpose) -> str | None:
    """Why ``principal`` may not see the rating of ``uscc`` for ``purpose`` (``None``: it may),
    before the request-level check (:func:`check_request`) — for a caller that has made that
    check already, such as a report, which shows the rating only to whom it may."""
    kind = principal.kind if principal is not None else None
    if principal is not None and kind is PrincipalKind.enterprise:
        if principal.code != uscc or purpose is not Purpose.self_query:
            return "an enterprise sees its own rating only, as self_query"
        return None
    if kind is PrincipalKind.provider or purpose not in PUBLIC_PURPOSES.get(kind, frozenset()):
        return f"{_who(kind)} may not see ratings for purpose {purpose.value}"
    return None


def scoring_records(
    session: Session,
    *,
    principal: Principal,
    usccs: Sequence[str],
    items: Sequence[Item],
    purpose: Purpose,
    fields: Sequence[str],
    at: datetime | None = None,
) -> tuple[pl.DataFrame, dict[str, list[ItemRead]]]:
    """What an institution's own scorecard may use about each entity (E2, 可用不可见): the
    records it could read itself for ``purpose`` — public items, and items an active
    authorization of that entity covers, within its data date range — in the long form of
    :func:`evaluation_records`. The scorecard runs inside the platform; only scores and reason
    codes leave. Also returns each entity's reads (decisions and authorizations) for the log.
    """
    if principal.kind is not PrincipalKind.institution:
        raise Forbidden("institutions run their own scorecards; this is for institution keys")
    check_request(session, principal=principal, purpose=purpose)
    wanted = sorted(set(fields))
    rows: list[dict[str, Any]] = []
    reads_by_entity: dict[str, list[ItemRead]] = {}
    for uscc in usccs:
        reads = read_records(
            session, principal=principal, uscc=uscc, items=items, purpose=purpose, at=at
        )
        reads_by_entity[uscc] = reads
        for read in reads:
            for record in read.records:
                row: dict[str, Any] = {
                    "uscc": uscc,
                    "item_code": read.item.code,
                    "event_date": record.event_date,
                }
                for name in wanted:
                    value = record.payload.get(name)
                    row[f"f_{name}"] = None if value is None else str(value)
                rows.append(row)
    schema: dict[str, Any] = {"uscc": pl.String, "item_code": pl.String, "event_date": pl.Date}
    schema |= {f"f_{name}": pl.String for name in wanted}
    return pl.DataFrame(rows, schema=schema, orient="row"), reads_by_entity


def case_record(
    session: Session, *, uscc: str, item_code: str, record_key: str
) -> RecordView | None:
    """The current version of the record an objection or a repair application of ``uscc`` is
    about, whatever its status, for the platform's own handling of the subject's case (G4).
    Its values go only to the subject and to the item's provider, who may see them anyway."""
    for record in records_service.current_records(
        session, uscc=uscc, item_codes=[item_code], statuses=ALL_STATUSES
    ):
        if record.record_key == record_key:
            return record
    return None


def publicity_records(
    session: Session, *, items: Sequence[Item], fields: Sequence[str]
) -> pl.DataFrame:
    """Every published record of ``items`` (with its key and status) for the platform's own
    sweep that ends publication at the maximum period (G4): the fields that decide the
    period, nothing else."""
    return records_service.evaluation_frame(
        session,
        item_codes=[i.code for i in items],
        fields=sorted(set(fields)),
        statuses=VISIBLE_STATUSES,
        with_key=True,
    )
