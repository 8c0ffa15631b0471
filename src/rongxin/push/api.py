"""Batch-push routes under /api/v1/push (V3).

Institutions manage their own subscriptions (another institution's is "not found"); operators
see every subscription and pause or resume them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from rongxin.access.deps import InstitutionPrincipal, OperatorPrincipal
from rongxin.access.errors import Forbidden
from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.db.base import utcnow
from rongxin.deps import CatalogDep, SessionDep, SettingsDep
from rongxin.errors import InvalidInput
from rongxin.kit.pagination import Page
from rongxin.push import subscriptions
from rongxin.push.files import MEDIA_TYPES
from rongxin.push.schemas import (
    DeliveryRead,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
)

router = APIRouter(prefix="/push", tags=["push"])


class PauseRequest(BaseModel):
    reason: str = Field("paused by an operator", min_length=1, max_length=500)


def _scope(principal: Principal) -> str | None:
    """The institution whose subscriptions the caller may see; ``None`` = all (operators)."""
    return None if principal.kind is PrincipalKind.operator else principal.code


@router.post(
    "/subscriptions", response_model=SubscriptionCreated, status_code=status.HTTP_201_CREATED
)
def create_subscription(
    body: SubscriptionCreate,
    session: SessionDep,
    catalog: CatalogDep,
    principal: InstitutionPrincipal,
) -> SubscriptionCreated:
    """Subscribe to new and changed public records; a webhook secret is shown only here."""
    institution = _scope(principal)
    if institution is None:
        if not body.institution_code:
            raise InvalidInput(
                "an operator must name the institution: institution_code", field="institution_code"
            )
        institution = body.institution_code
    elif body.institution_code not in (None, institution):
        raise Forbidden("an institution can only subscribe for itself")
    return subscriptions.create_subscription(
        session, catalog=catalog, institution_code=institution, spec=body
    )


@router.get("/subscriptions", response_model=list[SubscriptionRead])
def list_subscriptions(
    session: SessionDep,
    principal: InstitutionPrincipal,
    institution: Annotated[
        str | None, Query(max_length=64, description="Operators: only this institution's.")
    ] = None,
) -> list[SubscriptionRead]:
    """The caller's subscriptions (operators: everyone's)."""
    return subscriptions.list_subscriptions(
        session, institution_code=_scope(principal) or institution
    )


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionRead)
def get_subscription(
    subscription_id: str, session: SessionDep, principal: InstitutionPrincipal
) -> SubscriptionRead:
    return subscriptions.get_subscription(
        session, subscription_id=subscription_id, institution_code=_scope(principal)
    )


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_subscription(
    subscription_id: str, session: SessionDep, principal: InstitutionPrincipal
) -> None:
    """Stop and delete a subscription with its delivery log."""
    subscriptions.delete_subscription(
        session, subscription_id=subscription_id, institution_code=_scope(principal)
    )


@router.get("/subscriptions/{subscription_id}/deliveries", response_model=Page[DeliveryRead])
def list_deliveries(
    subscription_id: str,
    session: SessionDep,
    principal: InstitutionPrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[DeliveryRead]:
    """A subscription's deliveries, newest first."""
    return subscriptions.list_deliveries(
        session,
        subscription_id=subscription_id,
        institution_code=_scope(principal),
        limit=limit,
        offset=offset,
    )


@router.get("/deliveries/{delivery_id}/file", response_class=FileResponse)
def download_delivery_file(
    delivery_id: str, session: SessionDep, settings: SettingsDep, principal: InstitutionPrincipal
) -> FileResponse:
    """The file of a file delivery (CSV, JSONL or XLSX)."""
    path, fmt = subscriptions.delivery_file(
        session, settings=settings, delivery_id=delivery_id, institution_code=_scope(principal)
    )
    return FileResponse(path, media_type=MEDIA_TYPES[fmt], filename=path.name)


@router.post("/subscriptions/{subscription_id}/pause", response_model=SubscriptionRead)
def pause_subscription(
    subscription_id: str,
    session: SessionDep,
    _operator: OperatorPrincipal,
    body: PauseRequest | None = None,
) -> SubscriptionRead:
    """Operators: stop deliveries to a subscription until it is resumed."""
    reason = body.reason if body else PauseRequest().reason
    return subscriptions.pause_subscription(session, subscription_id=subscription_id, reason=reason)


@router.post("/subscriptions/{subscription_id}/resume", response_model=SubscriptionRead)
def resume_subscription(
    subscription_id: str, session: SessionDep, _operator: OperatorPrincipal
) -> SubscriptionRead:
    """Operators: resume; a delivery that failed for good is retried at once."""
    return subscriptions.resume_subscription(session, subscription_id=subscription_id, now=utcnow())
