"""Batch push (V3): what may be pushed (the scope rule) and the run that delivers it.

Subscriptions and the delivery log are in ``rongxin.push.subscriptions``.

Delivery semantics:
- A subscription's ``cursor`` is the last ``change_seq`` delivered. A run reads
  ``policy.shared_changes_since(cursor)`` (filtered by the subscription), at most
  ``RONGXIN_PUSH_BATCH_SIZE`` records at a time, and makes one delivery per page covering
  ``(cursor, last change_seq]``.
- Files are written atomically to ``{RONGXIN_DATA_DIR}/push/{subscription}/{from}-{to}.{ext}``;
  the delivery is marked delivered and the cursor advanced in the same transaction.
- Webhooks are POSTed signed; the cursor moves only when the receiver answers 2xx. Otherwise the
  delivery stays pending and is retried with backoff (30 s × 2^(attempts−1), at most 1 h) and,
  after ``RONGXIN_PUSH_MAX_ATTEMPTS`` attempts, fails and pauses its subscription until an operator
  resumes it (which re-queues the failed delivery). A pending delivery blocks newer ones (order).
- A delivery's id is derived from (subscription, from, to): re-running after a crash before commit
  rewrites the same file and re-sends the same id; receivers dedupe by it (and by change_seq).

Services flush, never commit: the edge (request, CLI command, worker loop) commits once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import select
from sqlalchemy.orm import Session

from rongxin.access import policy
from rongxin.catalog.schemas import Catalog, DataLevel, Item
from rongxin.config import Settings
from rongxin.logging import get_logger
from rongxin.push import files, webhook
from rongxin.push.models import PushDelivery, PushSubscription
from rongxin.push.schemas import (
    DeliveryMode,
    DeliveryStatus,
    FileFormat,
    RunResult,
    RunSummary,
    SubscriptionStatus,
)
from rongxin.records.schemas import RecordChange, RecordStatus

log = get_logger(__name__)

BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
MAX_DELIVERIES_PER_RUN = 100  # per subscription: bounds one run's transaction while catching up
_DELIVERY_NAMESPACE = uuid.UUID("5b0e5a2c-7f55-4c1e-9a57-2a1f0c3d9e11")


# ---- Scope of a push (G5) ---------------------------------------------------------------------
# THE place the access policy plugs in. Until the access issue brings authorization-aware pushes:
# - only items whose disclosure is public and that need no authorization (``Item.is_public``),
#   and whose natural key (hence ``uscc`` and ``record_key``) has no field of level ≥ 3, are
#   ever read for a push;
# - fields of level ≥ 3 (the field's level, else the item's) and fields the catalog does not
#   declare are dropped;
# - a record that is repaired or expired is pushed with its status and only its key fields, so
#   that subscribers stop using it.

PUSH_LEVEL_LIMIT = DataLevel.sensitive  # fields at this level or above never leave in a push
WITHDRAWN = frozenset({RecordStatus.repaired, RecordStatus.expired})


def _level(item: Item, field_name: str) -> DataLevel:
    f = item.field(field_name)
    return f.level if f.level is not None else item.level


def pushable_items(catalog: Catalog) -> dict[str, Item]:
    """The items whose records may be pushed to any subscribed institution."""
    return {
        item.code: item
        for item in catalog.items
        if item.is_public and all(_level(item, k) < PUSH_LEVEL_LIMIT for k in item.natural_key)
    }


def project_change(change: RecordChange, item: Item) -> dict[str, Any]:
    """One record change as it leaves the platform in a push."""
    names = item.natural_key if change.status in WITHDRAWN else [f.name for f in item.fields]
    payload = {
        name: change.payload[name]
        for name in names
        if name in change.payload and _level(item, name) < PUSH_LEVEL_LIMIT
    }
    return {
        "change_seq": change.change_seq,
        "item_code": change.item_code,
        "category": item.category,
        "uscc": change.uscc,
        "record_key": change.record_key,
        "version": change.version,
        "status": change.status.value,
        "event_date": change.event_date.isoformat() if change.event_date else None,
        "provider_code": change.provider_code,
        "origin_node": change.origin_node,
        "region_code": change.region_code,
        "industry_section": change.industry_section,
        "received_at": change.received_at.isoformat(),
        "payload": payload,
    }


# ---- The run ----------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt after ``attempts`` failed ones: 30 s, 1 min, 2 min … 1 h."""
    seconds = BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, BACKOFF_CAP_SECONDS))


def delivery_id_for(subscription_id: str, from_seq: int, to_seq: int) -> str:
    """Stable id of the delivery of ``(from_seq, to_seq]``: the same after a crash and re-run."""
    return uuid.uuid5(_DELIVERY_NAMESPACE, f"{subscription_id}:{from_seq}:{to_seq}").hex


def _items(catalog: Catalog, sub: PushSubscription) -> list[Item]:
    items = pushable_items(catalog)
    wanted = set(sub.categories) if sub.categories else None
    return [items[c] for c in sorted(items) if wanted is None or items[c].category in wanted]


def _changes(
    session: Session,
    sub: PushSubscription,
    *,
    items: Sequence[Item],
    after_seq: int,
    limit: int,
) -> list[RecordChange]:
    return policy.shared_changes_since(
        session,
        items=items,
        after_seq=after_seq,
        limit=limit,
        region_prefix=sub.region_prefix,
        industry_sections=sub.industry_sections,
    )


def _project_all(catalog: Catalog, changes: Sequence[RecordChange]) -> list[dict[str, Any]]:
    items = pushable_items(catalog)
    return [project_change(c, items[c.item_code]) for c in changes if c.item_code in items]


def _send(
    sub: PushSubscription,
    delivery: PushDelivery,
    records: list[dict[str, Any]],
    *,
    settings: Settings,
    now: datetime,
    http_client: httpx2.Client,
) -> str | None:
    """Deliver once; ``None`` on success, else the error."""
    if sub.delivery == DeliveryMode.file.value:
        fmt = FileFormat(sub.file_format or FileFormat.jsonl)
        relative = Path("push", sub.id, f"{delivery.from_seq:012d}-{delivery.to_seq:012d}.{fmt}")
        try:
            files.write_delivery_file(settings.data_dir / relative, records, fmt)
        except OSError as exc:
            return f"cannot write {relative}: {exc.strerror or exc}"
        except ValueError as exc:  # a record the format cannot hold
            return f"cannot write {relative}: {exc}"
        delivery.file_path = relative.as_posix()
        return None
    if not sub.webhook_url or not sub.webhook_secret:
        return "the subscription has no webhook URL or secret"
    body = webhook.encode_body(
        delivery_id=delivery.id,
        subscription_id=sub.id,
        from_seq=delivery.from_seq,
        to_seq=delivery.to_seq,
        records=records,
    )
    return webhook.post(
        http_client,
        url=sub.webhook_url,
        secret=sub.webhook_secret,
        delivery_id=delivery.id,
        body=body,
        now=now,
    )


def _attempt(
    session: Session,
    sub: PushSubscription,
    delivery: PushDelivery,
    records: list[dict[str, Any]],
    *,
    settings: Settings,
    now: datetime,
    http_client: httpx2.Client,
    retried: bool,
) -> RunResult:
    delivery.record_count = len(records)
    error = _send(sub, delivery, records, settings=settings, now=now, http_client=http_client)
    delivery.attempts += 1
    if error is None:
        delivery.status = DeliveryStatus.delivered.value
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        sub.cursor = delivery.to_seq
        log.info(
            "push_delivered",
            subscription_id=sub.id,
            delivery_id=delivery.id,
            records=len(records),
            to_seq=delivery.to_seq,
        )
    elif delivery.attempts >= settings.push_max_attempts:
        delivery.status = DeliveryStatus.failed.value
        delivery.last_error = error[:1000]
        delivery.next_attempt_at = None
        sub.status = SubscriptionStatus.paused.value
        sub.paused_reason = (
            f"delivery {delivery.id} failed {delivery.attempts} times (last: {error}); fix the "
            f"receiver, then resume: `rongxin push resume {sub.id}`"
        )[:1000]
        log.warning("push_failed", subscription_id=sub.id, delivery_id=delivery.id, error=error)
    else:
        delivery.last_error = error[:1000]
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        log.info("push_retry_later", subscription_id=sub.id, delivery_id=delivery.id, error=error)
    session.flush()
    return RunResult(
        subscription_id=sub.id,
        delivery_id=delivery.id,
        from_seq=delivery.from_seq,
        to_seq=delivery.to_seq,
        record_count=delivery.record_count,
        status=DeliveryStatus(delivery.status),
        attempts=delivery.attempts,
        retried=retried,
        error=error,
    )


def _count(summary: RunSummary, result: RunResult) -> None:
    summary.results.append(result)
    if result.status is DeliveryStatus.delivered:
        summary.delivered += 1
        summary.records += result.record_count
    elif result.status is DeliveryStatus.failed:
        summary.failed += 1
    else:
        summary.retrying += 1


def _run_subscription(
    session: Session,
    sub: PushSubscription,
    summary: RunSummary,
    *,
    catalog: Catalog,
    settings: Settings,
    now: datetime,
    http_client: httpx2.Client,
    progress: Callable[[RunResult], None] | None,
) -> None:
    def attempt(delivery: PushDelivery, records: list[dict[str, Any]], retried: bool) -> bool:
        result = _attempt(
            session,
            sub,
            delivery,
            records,
            settings=settings,
            now=now,
            http_client=http_client,
            retried=retried,
        )
        _count(summary, result)
        if progress is not None:
            progress(result)
        return result.status is DeliveryStatus.delivered

    items = _items(catalog, sub)
    pending = session.scalars(
        select(PushDelivery)
        .where(
            PushDelivery.subscription_id == sub.id,
            PushDelivery.status == DeliveryStatus.pending.value,
        )
        .order_by(PushDelivery.from_seq)
        .limit(1)
    ).first()
    if pending is not None:
        if pending.next_attempt_at is not None and pending.next_attempt_at > now:
            summary.waiting += 1
            return
        # Re-read the range: versions are immutable, and the policy in force today applies.
        changes = _changes(
            session,
            sub,
            items=items,
            after_seq=pending.from_seq,
            limit=max(settings.push_batch_size, pending.record_count),
        )
        in_range = [c for c in changes if c.change_seq <= pending.to_seq]
        if not attempt(pending, _project_all(catalog, in_range), True):
            return
    if not items:
        return
    for _ in range(MAX_DELIVERIES_PER_RUN):
        changes = _changes(
            session,
            sub,
            items=items,
            after_seq=sub.cursor,
            limit=settings.push_batch_size,
        )
        if not changes:
            return
        from_seq, to_seq = sub.cursor, changes[-1].change_seq
        delivery = PushDelivery(
            id=delivery_id_for(sub.id, from_seq, to_seq),
            subscription_id=sub.id,
            from_seq=from_seq,
            to_seq=to_seq,
            record_count=0,
            status=DeliveryStatus.pending.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(delivery)
        session.flush()
        if not attempt(delivery, _project_all(catalog, changes), False):
            return


def run_once(
    session: Session,
    *,
    catalog: Catalog,
    settings: Settings,
    now: datetime,
    http_client: httpx2.Client,
    progress: Callable[[RunResult], None] | None = None,
) -> RunSummary:
    """Deliver what is due for every active subscription (retries first, then new changes)."""
    summary = RunSummary()
    ids = session.scalars(
        select(PushSubscription.id)
        .where(PushSubscription.status == SubscriptionStatus.active.value)
        .order_by(PushSubscription.created_at, PushSubscription.id)
    ).all()
    for subscription_id in ids:
        # On PostgreSQL a second worker skips a subscription this one is delivering.
        sub = session.scalars(
            select(PushSubscription)
            .where(
                PushSubscription.id == subscription_id,
                PushSubscription.status == SubscriptionStatus.active.value,
            )
            .with_for_update(skip_locked=True)
        ).first()
        if sub is None:
            continue
        summary.subscriptions += 1
        _run_subscription(
            session,
            sub,
            summary,
            catalog=catalog,
            settings=settings,
            now=now,
            http_client=http_client,
            progress=progress,
        )
    return summary
