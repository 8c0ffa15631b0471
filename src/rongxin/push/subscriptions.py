"""Push subscriptions and their delivery log: create, list, pause, resume, delete (V3).

The run that delivers is ``rongxin.push.service.run_once``. Services flush, never commit.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.db.base import utcnow
from rongxin.errors import Conflict, InvalidInput, NotFound
from rongxin.kit.pagination import Page
from rongxin.logging import get_logger
from rongxin.push.models import PushDelivery, PushSubscription
from rongxin.push.schemas import (
    DeliveryMode,
    DeliveryRead,
    DeliveryStatus,
    FileFormat,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
    SubscriptionStatus,
)
from rongxin.push.service import pushable_items
from rongxin.records import service as records_service

log = get_logger(__name__)


# ---- Subscriptions ----------------------------------------------------------------------------


def _pushable_categories(catalog: Catalog) -> set[str]:
    return {item.category for item in pushable_items(catalog).values()}


def _check_spec(catalog: Catalog, spec: SubscriptionCreate) -> None:
    if spec.categories is not None:
        known = {c.code for c in catalog.categories}
        unknown = sorted(set(spec.categories) - known)
        if unknown:
            raise InvalidInput(
                f"unknown categories {unknown}; `rongxin catalog list` shows the categories",
                field="categories",
            )
        pushable = _pushable_categories(catalog)
        if not set(spec.categories) & pushable:
            raise InvalidInput(
                f"categories {sorted(spec.categories)} have no public items that can be pushed "
                "without the enterprise's authorization; pushable categories: "
                f"{', '.join(sorted(pushable))}",
                field="categories",
            )
    if spec.industry_sections is not None:
        bad = [s for s in spec.industry_sections if len(s) != 1 or not "A" <= s <= "T"]
        if bad:
            raise InvalidInput(
                f"industry sections are GB/T 4754 letters A–T, not {bad}", field="industry_sections"
            )
    if spec.webhook_url is not None:
        parts = urlsplit(spec.webhook_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(
                "webhook_url must be an absolute http(s) URL, e.g. https://bank.example/hook",
                field="webhook_url",
            )


def create_subscription(
    session: Session,
    *,
    catalog: Catalog,
    institution_code: str,
    spec: SubscriptionCreate,
    now: datetime | None = None,
) -> SubscriptionCreated:
    """Subscribe ``institution_code``; the webhook secret is in the answer and never again."""
    if not institution_code or len(institution_code) > 64:
        raise InvalidInput("institution code must be 1–64 characters", field="institution_code")
    _check_spec(catalog, spec)
    secret = secrets.token_hex(32) if spec.delivery is DeliveryMode.webhook else None
    sub = PushSubscription(
        id=uuid.uuid4().hex,
        institution_code=institution_code,
        name=spec.name,
        region_prefix=spec.region_prefix,
        industry_sections=sorted(set(spec.industry_sections)) if spec.industry_sections else None,
        categories=sorted(set(spec.categories)) if spec.categories else None,
        delivery=spec.delivery.value,
        file_format=spec.file_format.value if spec.file_format else None,
        webhook_url=spec.webhook_url,
        webhook_secret=secret,
        cursor=0 if spec.from_beginning else records_service.last_change_seq(session),
        status=SubscriptionStatus.active.value,
        created_at=now or utcnow(),
    )
    session.add(sub)
    session.flush()
    log.info("push_subscription_created", subscription_id=sub.id, institution=institution_code)
    read = SubscriptionRead.model_validate(sub)
    return SubscriptionCreated(**read.model_dump(), webhook_secret=secret)


def _subscription(
    session: Session, subscription_id: str, institution_code: str | None
) -> PushSubscription:
    sub = session.get(PushSubscription, subscription_id)
    # Another institution's subscription is "not found", never "forbidden": ids are not a probe.
    if sub is None or (institution_code is not None and sub.institution_code != institution_code):
        raise NotFound(
            f"no push subscription {subscription_id!r}; `rongxin push list` shows them",
            subscription_id=subscription_id,
        )
    return sub


def get_subscription(
    session: Session, *, subscription_id: str, institution_code: str | None = None
) -> SubscriptionRead:
    """One subscription; with ``institution_code``, only if it is that institution's."""
    return SubscriptionRead.model_validate(
        _subscription(session, subscription_id, institution_code)
    )


def list_subscriptions(
    session: Session, *, institution_code: str | None = None
) -> list[SubscriptionRead]:
    stmt = select(PushSubscription).order_by(PushSubscription.created_at, PushSubscription.id)
    if institution_code is not None:
        stmt = stmt.where(PushSubscription.institution_code == institution_code)
    return [SubscriptionRead.model_validate(s) for s in session.scalars(stmt)]


def pause_subscription(
    session: Session, *, subscription_id: str, reason: str = "paused by an operator"
) -> SubscriptionRead:
    sub = _subscription(session, subscription_id, None)
    sub.status = SubscriptionStatus.paused.value
    sub.paused_reason = reason[:1000]
    session.flush()
    log.info("push_subscription_paused", subscription_id=sub.id)
    return SubscriptionRead.model_validate(sub)


def resume_subscription(
    session: Session, *, subscription_id: str, now: datetime | None = None
) -> SubscriptionRead:
    """Resume; a delivery that failed for good is re-queued (due now, attempts from zero)."""
    sub = _subscription(session, subscription_id, None)
    now = now or utcnow()
    for delivery in session.scalars(
        select(PushDelivery).where(
            PushDelivery.subscription_id == sub.id,
            PushDelivery.status == DeliveryStatus.failed.value,
        )
    ):
        delivery.status = DeliveryStatus.pending.value
        delivery.attempts = 0
        delivery.next_attempt_at = now
    sub.status = SubscriptionStatus.active.value
    sub.paused_reason = None
    session.flush()
    log.info("push_subscription_resumed", subscription_id=sub.id)
    return SubscriptionRead.model_validate(sub)


def delete_subscription(
    session: Session, *, subscription_id: str, institution_code: str | None = None
) -> None:
    """Delete a subscription and its delivery log (files already written stay on disk)."""
    sub = _subscription(session, subscription_id, institution_code)
    for delivery in session.scalars(
        select(PushDelivery).where(PushDelivery.subscription_id == sub.id)
    ):
        session.delete(delivery)
    session.delete(sub)
    session.flush()
    log.info("push_subscription_deleted", subscription_id=subscription_id)


# ---- Delivery log -------------------------------------------------------------------------------


def _delivery_read(delivery: PushDelivery) -> DeliveryRead:
    read = DeliveryRead.model_validate(delivery)
    read.file_name = Path(delivery.file_path).name if delivery.file_path else None
    return read


def list_deliveries(
    session: Session,
    *,
    subscription_id: str,
    institution_code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[DeliveryRead]:
    """A subscription's deliveries, newest first."""
    sub = _subscription(session, subscription_id, institution_code)
    where = PushDelivery.subscription_id == sub.id
    total = session.scalar(select(func.count()).select_from(PushDelivery).where(where)) or 0
    rows = session.scalars(
        select(PushDelivery)
        .where(where)
        .order_by(PushDelivery.to_seq.desc())
        .limit(limit)
        .offset(offset)
    )
    return Page[DeliveryRead](
        items=[_delivery_read(d) for d in rows], total=total, limit=limit, offset=offset
    )


def delivery_file(
    session: Session,
    *,
    settings: Settings,
    delivery_id: str,
    institution_code: str | None = None,
) -> tuple[Path, FileFormat]:
    """The file of a delivered file delivery (and its format) for download."""
    delivery = session.get(PushDelivery, delivery_id)
    missing = NotFound(f"no push delivery {delivery_id!r}", delivery_id=delivery_id)
    if delivery is None:
        raise missing
    sub = session.get(PushSubscription, delivery.subscription_id)
    if sub is None or (institution_code is not None and sub.institution_code != institution_code):
        raise missing
    if delivery.file_path is None or sub.file_format is None:
        raise Conflict(
            f"delivery {delivery_id!r} has no file: it is a webhook delivery or not yet written",
            delivery_id=delivery_id,
        )
    path = settings.data_dir / delivery.file_path
    if not path.is_file():
        raise NotFound(
            f"the file of delivery {delivery_id!r} is no longer on disk ({delivery.file_path})",
            delivery_id=delivery_id,
        )
    return path, FileFormat(sub.file_format)
