"""Outbox and webhook delivery.

`enqueue` runs inside the case transaction (the message exists iff the change committed). Delivery
runs in the scheduler process in three short transactions — fan out and lease due deliveries; POST
with no transaction open; record the outcomes — so a slow or dead receiver never holds a lock a case
needs. Each POST carries `X-Jiaojie-Timestamp` and `X-Jiaojie-Signature: sha256=<hex>` where the hex is
HMAC-SHA256(secret, "<timestamp>." + body); receivers check it with `verify_signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from coordinator.db import session_scope
from coordinator.dialects import begin_write, skip_locked
from coordinator.notifications.models import OutboxMessage, WebhookDelivery, WebhookSubscription

# Events other systems may subscribe to: case event kinds, and liaison meeting notices (agenda built,
# reminder, moved or cancelled; their messages carry no case id).
NOTIFY_KINDS = frozenset(
    {
        "meeting_agenda",
        "meeting_reminder",
        "meeting_changed",
        "meeting_cancelled",
        "routed",
        "claimed",
        "resolved",
        "verified",
        "closed",
        "reopened",
        "voided",
        "disputed",
        "transfer_requested",
        "transfer_accepted",
        "transfer_declined",
        "escalated",
        # joint night rosters (coordinator/rosters): not case events, told to the squads concerned
        "roster_published",
        "patrol_reminder",
        # field devices (coordinator/field): a night-time border alert told to tonight's squads, and a
        # flooding device throttled (told to the dispatcher)
        "realtime_warning",
        "device_throttled",
        # feedback to a case's reporters (coordinator/community/feedback.py): one message per reporter
        # who consented, with their channel, for an SMS / 随申办 gateway to deliver
        "reporter_claimed",
        "reporter_resolved",
        "reporter_closed",
    }
)
SIGNATURE_HEADER = "X-Jiaojie-Signature"
TIMESTAMP_HEADER = "X-Jiaojie-Timestamp"
EVENT_HEADER = "X-Jiaojie-Event"
DELIVERY_HEADER = "X-Jiaojie-Delivery"
MAX_ATTEMPTS = 10
BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 3600.0
TIMEOUT_S = 5.0
BATCH = 100  # deliveries one run leases, then posts one after another
LEASE_MARGIN_S = 60.0  # beyond the POSTs themselves: the transactions around them, a slow DNS answer


def enqueue(
    session: Session, kind: str, case_id: int | None, payload: dict[str, Any], *, now: datetime
) -> None:
    """Add an outbox message (in the caller's transaction) if `kind` is worth telling other systems."""
    if kind in NOTIFY_KINDS:
        session.add(OutboxMessage(kind=kind, case_id=case_id, payload=payload, created_at=now))


# -- subscriptions ---------------------------------------------------------------------------------


def add_subscription(
    session: Session, *, name: str, url: str, secret: str, kinds: list[str], active: bool = True
) -> WebhookSubscription:
    """Register a webhook receiver; `kinds` empty = every kind. Unknown kinds are refused."""
    unknown = set(kinds) - NOTIFY_KINDS
    if unknown:
        raise ValueError(f"unknown event kind(s) {sorted(unknown)}; known: {sorted(NOTIFY_KINDS)}")
    if not url.startswith(("http://", "https://")):
        raise ValueError("webhook url must be http(s)://…")
    sub = WebhookSubscription(name=name, url=url, secret=secret, event_kinds=sorted(kinds), active=active)
    session.add(sub)
    session.flush()
    return sub


def list_subscriptions(session: Session) -> list[WebhookSubscription]:
    """Every subscription, by name."""
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.name)))


# -- signatures ------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: datetime, tolerance_s: int = 300
) -> bool:
    """What a receiver does: recompute the HMAC and refuse stale timestamps (replays)."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now.timestamp() - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


# -- delivery --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leased:
    """A delivery taken for one attempt, with everything needed to POST it without the database."""

    id: int
    url: str
    secret: str
    kind: str
    body: bytes


@dataclass
class DeliveryStats:
    """What one delivery run did."""

    fanned_out: int = 0
    attempted: int = 0
    delivered: int = 0
    failed_for_good: int = 0


def message_body(message: OutboxMessage) -> bytes:
    """The JSON body sent for a message (stable key order, UTF-8, Chinese kept readable)."""
    doc = {
        "id": message.id,
        "kind": message.kind,
        "case_id": message.case_id,
        "created_at": message.created_at.isoformat(),
        "data": message.payload,
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()


def fan_out(session: Session, *, now: datetime) -> int:
    """Create one delivery per (undispatched message, matching active subscription); returns messages."""
    messages = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.dispatched_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(500)
    ).all()
    if not messages:
        return 0
    subs = session.scalars(select(WebhookSubscription).where(WebhookSubscription.active.is_(True))).all()
    for message in messages:
        for sub in subs:
            if sub.wants(message.kind):
                session.add(
                    WebhookDelivery(message_id=message.id, subscription_id=sub.id, next_attempt_at=now)
                )
        message.dispatched_at = now
    session.flush()
    return len(messages)


def lease_seconds(batch: int, timeout_s: float) -> float:
    """How long a run keeps the deliveries it took: its POSTs are sequential, so the last of a full
    batch may start only after all the others timed out."""
    return batch * timeout_s + LEASE_MARGIN_S


def lease_due(
    session: Session, *, now: datetime, limit: int = BATCH, timeout_s: float = TIMEOUT_S
) -> list[Leased]:
    """Take up to `limit` due pending deliveries for one attempt each: push their next attempt past the
    time a run needs to post them all (`lease_seconds`), so another runner (or this one after a crash)
    retries them only if this attempt never reports back."""
    lease = timedelta(seconds=lease_seconds(limit, timeout_s))
    stmt = (
        select(WebhookDelivery, WebhookSubscription, OutboxMessage)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .join(OutboxMessage, OutboxMessage.id == WebhookDelivery.message_id)
        .where(WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    leased = []
    for delivery, sub, message in session.execute(skip_locked(stmt, session, of=WebhookDelivery)).all():
        delivery.next_attempt_at = now + lease
        leased.append(Leased(delivery.id, sub.url, sub.secret, message.kind, message_body(message)))
    session.flush()
    return leased


def post(item: Leased, *, now: datetime, timeout_s: float = TIMEOUT_S) -> tuple[int | None, str | None]:
    """POST one delivery; (HTTP status, None) on a 2xx, else (status or None, error text)."""
    timestamp = int(now.timestamp())
    request = urllib.request.Request(
        item.url,
        data=item.body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "jiaojie-webhooks/1",
            EVENT_HEADER: item.kind,
            DELIVERY_HEADER: str(item.id),
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(item.secret, timestamp, item.body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:  # refused, timeout, DNS, bad URL
        return None, f"{type(exc).__name__}: {exc}"[:500]
    return status, None if 200 <= status < 300 else f"HTTP {status}"


def backoff(attempts: int, *, base_s: float = BACKOFF_BASE_S, cap_s: float = BACKOFF_CAP_S) -> timedelta:
    """Wait before attempt `attempts + 1`: base·2^(attempts−1), capped."""
    return timedelta(seconds=min(cap_s, base_s * 2 ** max(0, attempts - 1)))


def record(
    session: Session,
    delivery_id: int,
    status: int | None,
    error: str | None,
    *,
    now: datetime,
    max_attempts: int = MAX_ATTEMPTS,
) -> str:
    """Record one attempt's outcome; returns the new state (delivered, pending or failed)."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.state != "pending":
        return delivery.state if delivery else "missing"
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status = status
    delivery.last_error = error
    if error is None:
        delivery.state = "delivered"
        delivery.delivered_at = now
    elif delivery.attempts >= max_attempts:
        delivery.state = "failed"  # given up; the row keeps the last error as the record
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    return delivery.state


def deliver_pending(
    factory: sessionmaker[Session],
    *,
    now: datetime,
    max_attempts: int = MAX_ATTEMPTS,
    timeout_s: float = TIMEOUT_S,
    batch: int = BATCH,
) -> DeliveryStats:
    """One delivery run: fan out new messages, POST up to `batch` due deliveries, record outcomes (each
    step its own short transaction; no transaction is open while waiting on a receiver)."""
    stats = DeliveryStats()
    with session_scope(factory) as session:
        begin_write(session)
        stats.fanned_out = fan_out(session, now=now)
        leased = lease_due(session, now=now, limit=batch, timeout_s=timeout_s)
    outcomes = [(item.id, *post(item, now=now, timeout_s=timeout_s)) for item in leased]
    stats.attempted = len(outcomes)
    with session_scope(factory) as session:
        begin_write(session)
        for delivery_id, status, error in outcomes:
            state = record(session, delivery_id, status, error, now=now, max_attempts=max_attempts)
            stats.delivered += state == "delivered"
            stats.failed_for_good += state == "failed"
    return stats


def deactivate(session: Session, name: str) -> bool:
    """Stop a subscription (its pending deliveries still complete). False if unknown."""
    result = session.execute(
        update(WebhookSubscription).where(WebhookSubscription.name == name).values(active=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
