"""Platform use cases of interface call (M2) and data verification (M3).

* :func:`verify_claims` — an institution's claims about an enterprise, checked under the policy
  decision point (mode ``verify``): by the providing department's service for interface and
  verification items, against the current aggregated record for physically aggregated items.
  Only outcomes come back.
* :func:`fetch_interface_records` — report assembly's reader of interface items at query time:
  asks the provider for exactly the fields the decision lets the viewer see, within the
  authorization's data date range, keeps nothing, and turns an unavailable provider into a
  "section temporarily unavailable" result instead of failing the report.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from rongxin.access import policy
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, Purpose
from rongxin.audit import service as audit_service
from rongxin.audit.schemas import AccessEvent, ActorKind, Outcome
from rongxin.catalog.schemas import Catalog, FieldType, Item, SharingMode
from rongxin.config import Settings
from rongxin.db.base import utcnow
from rongxin.entities import uscc as uscc_codes
from rongxin.errors import InvalidInput
from rongxin.logging import get_logger
from rongxin.providers import claims as claim_rules
from rongxin.providers.client import ProviderClient
from rongxin.providers.errors import InvalidClaim, ProviderUnavailable
from rongxin.providers.schemas import (
    ClaimResult,
    FieldValue,
    InterfaceFetch,
    InterfaceRecord,
    ProviderQuery,
    ProviderVerify,
    VerifyRequest,
    VerifyResponse,
    VerifySource,
)
from rongxin.records.schemas import RecordStatus, RecordView

log = get_logger(__name__)

KEY_SEPARATOR: Final = "\x1f"  # as the record store joins natural-key values
ASKED_MODES: Final = frozenset({SharingMode.interface, SharingMode.verification})
UNAVAILABLE_NOTE: Final = (
    "数据提供单位接口暂时无法访问，本部分暂不可用",
    "Section temporarily unavailable: the provider did not answer",
)


def _catalog_item(catalog: Catalog, code: str) -> Item:
    try:
        return catalog.item(code)
    except KeyError:
        raise InvalidClaim(
            f"item: {code!r} is not in the catalog (see GET /api/v1/catalog/items)", field="item"
        ) from None


def _subject(raw: str) -> str:
    result = uscc_codes.validate(raw)
    if not result.valid:
        raise InvalidInput(f"uscc: {result.reason}", field="uscc")
    return result.code


def verify_claims(
    session: Session,
    client: ProviderClient,
    *,
    catalog: Catalog,
    principal: Principal,
    request: VerifyRequest,
    at: datetime | None = None,
    settings: Settings | None = None,
) -> VerifyResponse:
    """Check ``request.claims`` about one enterprise (数据核验); outcomes only, never values.
    The verification is logged in the access log (item, purpose, authorization; no values).

    Input is checked first (errors name the field: ``claims[0].op`` …), then the request
    (``policy.check_request``: the institution is approved for the purpose) and the policy
    decision point in mode ``verify``; a denial raises ``Forbidden`` before anything is read or
    asked. Under an authorization, the data date range is narrowed to the authorization's.
    A verification that answers counts one read against the institution's daily quota.
    """
    item = _catalog_item(catalog, request.item)
    subject = _subject(request.uscc)
    claim_rules.check_date_range(request.date_from, request.date_to)
    where = claim_rules.prepare_where(item, request.where)
    prepared = claim_rules.prepare_claims(item, request.claims)
    policy.check_request(session, principal=principal, purpose=request.purpose)
    decision = policy.require(
        session,
        principal=principal,
        uscc=subject,
        item=item,
        purpose=request.purpose,
        mode=policy.AccessMode.verify,
        at=at,
    )
    if request.authorization_id is not None and request.authorization_id != (
        decision.authorization_id
    ):
        raise Forbidden(
            f"authorization {request.authorization_id} does not cover verifying {item.code} of "
            f"this enterprise for purpose {request.purpose.value}",
            field="authorization_id",
        )
    checked_at = at or utcnow()
    date_from, date_to = request.date_from, request.date_to
    terms = decision.authorization
    if terms is not None:
        date_from, date_to = within_terms(
            date_from, date_to, terms.data_from_date, terms.data_to_date
        )
    if item.sharing_mode in ASKED_MODES:
        verdict = client.verify(
            provider=item.provider,
            request=ProviderVerify(
                item=item.code,
                uscc=subject,
                purpose=request.purpose,
                institution=principal.code,
                authorization_id=decision.authorization_id,
                where=request.where,
                date_from=date_from,
                date_to=date_to,
                claims=request.claims,
            ),
        )
        results = _checked(item.provider, verdict.results, prepared)
        source = VerifySource.provider
    else:
        records = policy.verification_records(session, uscc=subject, item=item, decision=decision)
        rows = claim_rules.select_rows(
            item,
            [r.payload for r in records],
            where=where,
            date_from=date_from,
            date_to=date_to,
        )
        results = claim_rules.evaluate(item, prepared, rows)
        source = VerifySource.platform
    policy.count_read(session, principal=principal, at=checked_at)
    audit_service.append(
        session,
        [
            AccessEvent(
                action="verify",
                actor_kind=ActorKind(principal.kind.value),
                actor_code=principal.code,
                user_id=principal.user_id,
                uscc=subject,
                items=[item.code],
                purpose=request.purpose,
                authorization_id=decision.authorization_id,
                outcome=Outcome.allowed,
                detail=f"{len(results)} claims answered by the {source.value}",
                occurred_at=checked_at,
            )
        ],
        settings=settings,
    )
    log.info(
        "verify",
        item=item.code,
        uscc=subject,
        institution=principal.code,
        purpose=request.purpose.value,
        authorization_id=decision.authorization_id,
        source=source.value,
        outcomes=[r.outcome.value for r in results],
    )
    return VerifyResponse(
        uscc=subject,
        item=item.code,
        item_name=item.name,
        item_name_en=item.name_en,
        provider=item.provider,
        source=source,
        purpose=request.purpose,
        authorization_id=decision.authorization_id,
        checked_at=checked_at,
        results=results,
    )


def within_terms(
    date_from: date | None, date_to: date | None, terms_from: date, terms_to: date
) -> tuple[date, date]:
    """The data date range asked for, narrowed to the authorization's (DOMAIN.md §12: every read
    checks the date range); a range wholly outside it is refused."""
    start = max(date_from or terms_from, terms_from)
    end = min(date_to or terms_to, terms_to)
    if start > end:
        raise Forbidden(
            f"date_from/date_to: the range asked for lies outside the authorization's data "
            f"date range ({terms_from.isoformat()} … {terms_to.isoformat()})",
            field="date_from",
        )
    return start, end


def _checked(
    provider: str, results: list[ClaimResult], prepared: list[claim_rules.PreparedClaim]
) -> list[ClaimResult]:
    """The provider's outcomes, one per claim in order (anything else is not the protocol)."""
    expected = [(p.index, p.field.name) for p in prepared]
    if [(r.index, r.field) for r in results] != expected:
        raise ProviderUnavailable(
            f"provider {provider} answered outcomes that do not match the claims sent",
            provider=provider,
            reason="bad_response",
        )
    return results


def _event_date(item: Item, payload: dict[str, Any]) -> date | None:
    if item.event_date_field is None:
        return None
    f = item.field(item.event_date_field)
    raw = payload.get(f.name)
    try:
        value = claim_rules.coerce(f, raw)
    except (ValueError, TypeError):
        return None
    if value is None:
        return None
    if f.type is FieldType.month:
        return date.fromisoformat(f"{value}-01")
    return value if isinstance(value, date) else None


def fetch_interface_records(
    session: Session,
    client: ProviderClient,
    *,
    principal: Principal | None,
    uscc: str,
    item: Item,
    purpose: Purpose,
    decision: policy.Decision,
    date_from: date | None = None,
    date_to: date | None = None,
    authorization_ref: str | None = None,
    now: datetime | None = None,
    presented: bool = True,
) -> InterfaceFetch:
    """The records of interface item ``item`` about ``uscc`` for one report, asked of the
    provider now under ``decision`` (from ``policy.require``/``decide``, mode ``interface``).

    Only the fields the decision shows are asked for and returned, masked as it requires.
    ``date_from``/``date_to`` (optional) are narrowed to the data date range of the decision's
    authorization; records outside it are dropped even if a provider sends them. Nothing is
    stored. A provider that cannot answer gives ``available=False`` with the reason and a
    bilingual note instead of failing the report. ``presented=False`` leaves the payloads
    unmasked (only the asked-for fields) for a caller that presents them itself
    (``policy.read_records``).
    """
    if not decision.allowed:
        raise Forbidden(decision.reason)
    if item.sharing_mode is not SharingMode.interface:
        raise InvalidInput(
            f"{item.code} is not an interface item (sharing mode {item.sharing_mode.value})",
            field="item",
        )
    fetched_at = now or utcnow()
    subject = uscc_codes.normalize(uscc)
    terms = decision.authorization
    if terms is not None:
        date_from, date_to = within_terms(
            date_from, date_to, terms.data_from_date, terms.data_to_date
        )
    fields = ["uscc", *(f.name for f in policy.visible_fields(item, decision))]
    base: dict[str, Any] = {
        "item_code": item.code,
        "provider_code": item.provider,
        "authorization_id": decision.authorization_id,
        "fetched_at": fetched_at,
    }
    try:
        answer = client.query(
            provider=item.provider,
            request=ProviderQuery(
                item=item.code,
                uscc=subject,
                purpose=purpose,
                institution=principal.code if principal is not None else None,
                authorization_id=decision.authorization_id,
                authorization_ref=authorization_ref,
                date_from=date_from,
                date_to=date_to,
                fields=fields,
            ),
        )
    except ProviderUnavailable as exc:
        reason = str(exc.details.get("reason", "unavailable"))
        log.warning("interface_section_unavailable", item=item.code, reason=reason)
        return InterfaceFetch(
            **base,
            available=False,
            unavailable_reason=reason,
            note=UNAVAILABLE_NOTE[0],
            note_en=UNAVAILABLE_NOTE[1],
        )
    own = [
        row for row in answer.records if uscc_codes.normalize(str(row.get("uscc") or "")) == subject
    ]
    rows = claim_rules.select_rows(item, own, date_from=date_from, date_to=date_to)
    records = []
    for row in rows:
        payload: dict[str, FieldValue] = (
            policy.present(item, decision, dict(row)) if presented else dict(row)
        )
        key = KEY_SEPARATOR.join(str(row.get(k, "")) for k in item.natural_key)
        records.append(
            InterfaceRecord(
                item_code=item.code,
                uscc=subject,
                record_key=key,
                payload=payload,
                event_date=_event_date(item, dict(row)),
                fetched_at=fetched_at,
                provider_code=item.provider,
            )
        )
    return InterfaceFetch(**base, available=True, records=records)


def interface_fetcher(
    session: Session,
    client: ProviderClient,
    *,
    principal: Principal | None,
    uscc: str,
    purpose: Purpose,
    now: datetime | None = None,
) -> Callable[[Item, policy.Decision], list[RecordView] | None]:
    """:func:`fetch_interface_records` in the shape ``policy.read_records(interface=...)``
    takes: record views of the fields the decision shows (``read_records`` masks them; never
    stored, so ``change_seq`` is 0 and ``batch_id`` empty), or ``None`` when the provider did
    not answer."""

    def fetch(item: Item, decision: policy.Decision) -> list[RecordView] | None:
        fetched = fetch_interface_records(
            session,
            client,
            principal=principal,
            uscc=uscc,
            item=item,
            purpose=purpose,
            decision=decision,
            now=now,
            presented=False,
        )
        if not fetched.available:
            return None
        return [
            RecordView(
                change_seq=0,
                item_code=r.item_code,
                uscc=r.uscc,
                record_key=r.record_key,
                version=1,
                is_current=True,
                payload=dict(r.payload),
                event_date=r.event_date,
                status=RecordStatus.published,
                provider_code=r.provider_code,
                batch_id=None,
                provider_record_id=None,
                origin_node=r.provider_code,
                received_at=r.fetched_at,
            )
            for r in fetched.records
        ]

    return fetch
