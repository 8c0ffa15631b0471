"""Webhook delivery against a real HTTP server on a loopback port: signatures, retries, failure."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta

import httpx2
from push_factories import deliveries, entity, subscribe
from record_factories import create_record
from sqlalchemy.orm import Session

from conftest import T0, Receiver
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.push import service, subscriptions
from rongxin.push.schemas import DeliveryStatus, RunSummary, SubscriptionStatus


def _run(
    session: Session,
    catalog: Catalog,
    settings: Settings,
    http_client: httpx2.Client,
    now: datetime,
) -> RunSummary:
    return service.run_once(
        session, catalog=catalog, settings=settings, now=now, http_client=http_client
    )


def test_signed_post_retried_after_backoff_and_delivered_once(
    session: Session,
    catalog: Catalog,
    settings: Settings,
    http_client: httpx2.Client,
    receiver: Receiver,
) -> None:
    firm = entity(session)
    sub = subscribe(session, catalog, webhook_url=receiver.url)
    assert sub.webhook_secret
    receiver.secret = sub.webhook_secret
    receiver.statuses = [500]
    first = [create_record(session, uscc=firm.uscc) for _ in range(2)]

    failed = _run(session, catalog, settings, http_client, T0)
    assert (failed.retrying, failed.delivered) == (1, 0)
    (pending,) = deliveries(session, sub.id)
    assert (pending.status, pending.attempts) == (DeliveryStatus.pending, 1)
    assert pending.next_attempt_at == T0 + timedelta(seconds=30)
    assert pending.last_error == "HTTP 500 from the receiver"
    assert subscriptions.get_subscription(session, subscription_id=sub.id).cursor == sub.cursor

    later = create_record(session, uscc=firm.uscc)
    waiting = _run(session, catalog, settings, http_client, T0 + timedelta(seconds=10))
    assert (waiting.waiting, waiting.delivered, waiting.retrying) == (1, 0, 0)
    assert len(receiver.posts) == 1  # not due yet, and it blocks the newer change
    assert len(deliveries(session, sub.id)) == 1

    due = T0 + timedelta(seconds=30)
    done = _run(session, catalog, settings, http_client, due)
    assert done.delivered == 2
    assert [r.retried for r in done.results] == [True, False]

    assert all(p.signature_ok for p in receiver.posts)
    assert [p.timestamp for p in receiver.posts] == [
        str(int(T0.timestamp())),
        str(int(due.timestamp())),
        str(int(due.timestamp())),
    ]
    retry, fresh = receiver.posts[1], receiver.posts[2]
    assert receiver.posts[0].delivery_id == retry.delivery_id == pending.id
    assert retry.body["delivery_id"] == pending.id
    assert [r["change_seq"] for r in retry.body["records"]] == [r.change_seq for r in first]
    assert (retry.body["from_seq"], retry.body["to_seq"]) == (sub.cursor, first[-1].change_seq)
    assert [r["change_seq"] for r in fresh.body["records"]] == [later.change_seq]
    assert fresh.delivery_id != retry.delivery_id
    assert fresh.body["subscription_id"] == sub.id

    log = deliveries(session, sub.id)
    assert [(d.status, d.attempts) for d in log] == [
        (DeliveryStatus.delivered, 2),
        (DeliveryStatus.delivered, 1),
    ]
    assert subscriptions.get_subscription(session, subscription_id=sub.id).cursor == (
        later.change_seq
    )
    assert _run(session, catalog, settings, http_client, due + timedelta(hours=1)).delivered == 0
    assert len(receiver.posts) == 3  # delivered once each


def test_permanent_failure_pauses_until_resumed(
    session: Session,
    catalog: Catalog,
    settings: Settings,
    http_client: httpx2.Client,
    receiver: Receiver,
) -> None:
    firm = entity(session)
    sub = subscribe(session, catalog, webhook_url=receiver.url)
    receiver.secret = sub.webhook_secret or ""
    receiver.default_status = 503
    record = create_record(session, uscc=firm.uscc)

    now = T0
    waits = []
    for _ in range(settings.push_max_attempts):
        _run(session, catalog, settings, http_client, now)
        (delivery,) = deliveries(session, sub.id)
        if delivery.next_attempt_at is not None:
            waits.append(delivery.next_attempt_at - now)
            now = delivery.next_attempt_at
    assert waits == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480, 960, 1920)]
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.failed, 8)
    paused = subscriptions.get_subscription(session, subscription_id=sub.id)
    assert paused.status is SubscriptionStatus.paused
    assert paused.paused_reason is not None
    assert f"rongxin push resume {sub.id}" in paused.paused_reason
    assert "HTTP 503" in paused.paused_reason
    assert paused.cursor == sub.cursor

    idle = _run(session, catalog, settings, http_client, now + timedelta(days=1))
    assert idle.subscriptions == 0
    assert len(receiver.posts) == 8

    receiver.default_status = 204
    subscriptions.resume_subscription(session, subscription_id=sub.id, now=now)
    done = _run(session, catalog, settings, http_client, now)
    assert done.delivered == 1
    (delivered,) = deliveries(session, sub.id)
    assert (delivered.id, delivered.status) == (delivery.id, DeliveryStatus.delivered)
    assert subscriptions.get_subscription(session, subscription_id=sub.id).cursor == (
        record.change_seq
    )
    assert {p.delivery_id for p in receiver.posts} == {delivery.id}
    assert all(p.signature_ok for p in receiver.posts)


def test_unreachable_receiver_is_retried(
    session: Session, catalog: Catalog, settings: Settings, http_client: httpx2.Client
) -> None:
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    firm = entity(session)
    sub = subscribe(session, catalog, webhook_url=f"http://127.0.0.1:{port}/hook")
    create_record(session, uscc=firm.uscc)

    summary = _run(session, catalog, settings, http_client, T0)

    assert summary.retrying == 1
    (delivery,) = deliveries(session, sub.id)
    assert delivery.status is DeliveryStatus.pending
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("ConnectError")
    assert sub.webhook_secret is not None
    assert sub.webhook_secret not in delivery.last_error
