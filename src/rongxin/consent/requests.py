"""An institution asks an enterprise for authorization (经企业授权).

Every term is checked before anything is stored: the enterprise's USCC (GB 32100), the items
(known to the catalog, not publicly disclosable, shared), the purpose (financing only, Z2) and
the caps of the purpose template in force (:mod:`rongxin.consent.purposes`): access mode, fetch
frequency, validity, data date range, retention. Each error names the field it is about
(``details['field']``) and what is allowed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session

from rongxin.access.schemas import FINANCING_PURPOSES, Principal, Purpose
from rongxin.catalog.schemas import Catalog, Item, SharingAttribute
from rongxin.consent.errors import (
    AuthorizationNotFound,
    ExceedsPurposeTemplate,
    InvalidAuthorizationRequest,
)
from rongxin.consent.models import Authorization
from rongxin.consent.purposes import PurposeTemplate, PurposeTemplates
from rongxin.consent.schemas import (
    AuthorizationAction,
    AuthorizationMode,
    AuthorizationRead,
    AuthorizationRequest,
    AuthorizationStatus,
)
from rongxin.consent.service import (
    actor_id,
    load_authorization,
    record_event,
    require_aware,
    to_read,
)
from rongxin.entities import uscc as uscc_rules

#: a request may start this much before "now" (callers' clocks drift; requests travel)
START_SKEW: Final = timedelta(minutes=5)


def _invalid(message: str, field: str) -> InvalidAuthorizationRequest:
    return InvalidAuthorizationRequest(f"{field}: {message}", field=field)


def _check_items(catalog: Catalog, codes: Sequence[str]) -> list[str]:
    """The requested item codes, each known, not public and shared; else the first problem."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, code in enumerate(codes):
        field = f"items[{index}]"
        if code in seen:
            problems.append((field, f"{code!r} is listed twice"))
            continue
        seen.add(code)
        item: Item | None = next((i for i in catalog.items if i.code == code), None)
        if item is None:
            problems.append(
                (field, f"unknown catalog item {code!r}; `rongxin catalog list` shows the items")
            )
        elif item.is_public:
            problems.append(
                (
                    field,
                    f"{code!r} ({item.name}) is publicly disclosable (公开) and needs no "
                    "authorization; remove it from the request",
                )
            )
        elif item.sharing is SharingAttribute.none:
            problems.append(
                (field, f"{code!r} ({item.name}) is not shared (不予共享) and cannot be authorized")
            )
    if problems:
        field, reason = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InvalidAuthorizationRequest(
            f"{field}: {reason}{more}",
            field=field,
            problems=[{"field": f, "reason": r} for f, r in problems],
        )
    return sorted(seen)


def _template_for(
    templates: PurposeTemplates, purpose: Purpose, now: datetime
) -> tuple[str, PurposeTemplate]:
    if purpose not in FINANCING_PURPOSES:
        allowed = ", ".join(sorted(p.value for p in FINANCING_PURPOSES))
        raise _invalid(
            f"{purpose.value!r} is not a financing purpose; institutions may ask only for "
            f"{allowed} (Z2)",
            "purpose",
        )
    template_set = templates.in_force(now)
    template = template_set.template(purpose)
    if template is None:
        raise _invalid(
            f"the purpose templates {template_set.version} have no template for "
            f"{purpose.value!r}; ask the platform operator",
            "purpose",
        )
    return template_set.version, template


def _exceeds(message: str, field: str, template_version: str) -> ExceedsPurposeTemplate:
    return ExceedsPurposeTemplate(
        f"{field}: {message} (purpose templates {template_version})",
        field=field,
        template_version=template_version,
    )


def _check_terms(
    spec: AuthorizationRequest, template: PurposeTemplate, version: str, now: datetime
) -> tuple[datetime, datetime]:
    """The validity window, after checking every term against the template."""
    purpose = spec.purpose.value
    if spec.access_mode not in template.access_modes:
        allowed = ", ".join(m.value for m in template.access_modes)
        raise _exceeds(
            f"mode {spec.access_mode.value!r} is not allowed for {purpose} (allowed: {allowed})",
            "access_mode",
            version,
        )
    if spec.access_mode is AuthorizationMode.periodic:
        if spec.fetch_frequency not in template.fetch_frequencies:
            allowed = ", ".join(f.value for f in template.fetch_frequencies)
            raise _exceeds(
                f"periodic access needs a fetch frequency of {allowed}", "fetch_frequency", version
            )
    elif spec.fetch_frequency is not None:
        raise _invalid("a fetch frequency is only for access mode periodic", "fetch_frequency")
    valid_from = require_aware(spec.valid_from, "valid_from") if spec.valid_from else now
    valid_until = require_aware(spec.valid_until, "valid_until")
    if valid_from < now - START_SKEW:
        raise _invalid(
            f"{valid_from.isoformat()} is in the past; omit it to start now", "valid_from"
        )
    if valid_until <= valid_from:
        raise _invalid(
            f"{valid_until.isoformat()} is not after valid_from {valid_from.isoformat()}",
            "valid_until",
        )
    longest = timedelta(days=template.max_validity_days)
    if valid_until - valid_from > longest:
        days = (valid_until - valid_from) / timedelta(days=1)
        raise _exceeds(
            f"a {purpose} authorization may last at most {template.max_validity_days} days "
            f"({template.name}); {days:.1f} days were asked",
            "valid_until",
            version,
        )
    if spec.data_to_date < spec.data_from_date:
        raise _invalid(
            f"{spec.data_to_date.isoformat()} is before data_from_date "
            f"{spec.data_from_date.isoformat()} (the data date range is inverted)",
            "data_to_date",
        )
    span = (spec.data_to_date - spec.data_from_date).days + 1
    if span > template.max_data_range_days:
        raise _exceeds(
            f"the data date range covers {span} days; at most {template.max_data_range_days} "
            f"are allowed for {purpose}",
            "data_from_date",
            version,
        )
    if spec.retention_days > template.max_retention_days:
        raise _exceeds(
            f"{spec.retention_days} days; at most {template.max_retention_days} are allowed "
            f"for {purpose}",
            "retention_days",
            version,
        )
    return valid_from, valid_until


def request_authorization(
    session: Session,
    *,
    catalog: Catalog,
    templates: PurposeTemplates,
    institution_code: str,
    spec: AuthorizationRequest,
    actor: Principal,
    now: datetime,
    uscc_allow_list: Iterable[str] = (),
) -> AuthorizationRead:
    """An institution asks an enterprise to authorize ``spec``; the enterprise decides later.

    Every term is checked against the catalog and the purpose template in force; an error
    names the field (``details['field']``) and says what is allowed.
    """
    require_aware(now, "now")
    checked = uscc_rules.validate(spec.uscc, allow_list=uscc_allow_list)
    if not checked.valid:
        raise _invalid(checked.reason or "not a valid USCC", "uscc")
    version, template = _template_for(templates, spec.purpose, now)
    items = _check_items(catalog, spec.items)
    valid_from, valid_until = _check_terms(spec, template, version, now)
    number = 1
    if spec.supersedes_id is not None:
        try:
            old = load_authorization(
                session, spec.supersedes_id, uscc=checked.code, institution_code=institution_code
            )
        except AuthorizationNotFound:
            raise _invalid(
                f"no authorization {spec.supersedes_id!r} of yours for this enterprise",
                "supersedes_id",
            ) from None
        number = old.version + 1
    periodic = spec.access_mode is AuthorizationMode.periodic
    row = Authorization(
        id=uuid.uuid4().hex,
        version=number,
        supersedes_id=spec.supersedes_id,
        uscc=checked.code,
        institution_code=institution_code,
        loan_application_ref=spec.loan_application_ref,
        purpose=spec.purpose.value,
        template_version=version,
        items=items,
        access_mode=spec.access_mode.value,
        fetch_frequency=spec.fetch_frequency.value if spec.fetch_frequency else None,
        data_from_date=spec.data_from_date,
        data_to_date=spec.data_to_date,
        retention_days=spec.retention_days,
        valid_from=valid_from,
        valid_until=valid_until,
        reconfirm_days=template.reconfirm_days if periodic else None,
        status=AuthorizationStatus.requested.value,
        requested_by=actor_id(actor),
        requested_at=now,
        status_changed_at=now,
    )
    session.add(row)
    session.flush()  # the row exists before its first event refers to it
    record_event(
        session,
        row,
        action=AuthorizationAction.request,
        to=AuthorizationStatus.requested,
        actor=actor,
        at=now,
    )
    session.flush()
    return to_read(row, now)
