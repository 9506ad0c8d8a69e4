"""Outbox, webhook subscriptions and per-subscription deliveries.

Case services insert an `OutboxMessage` in the same transaction as the change it announces, so a
notification exists exactly when the change committed. The scheduler process fans each message out to
the matching active subscriptions (`WebhookDelivery`) and POSTs them, outside any case transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base, UtcDateTime, utcnow

DELIVERY_STATES = ("pending", "delivered", "failed")


class OutboxMessage(Base):
    """One event worth telling other systems (routed, claimed, transferred, escalated, resolved…)."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_undispatched", "dispatched_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Set when the message was fanned out to the subscriptions active at that moment.
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class WebhookSubscription(Base):
    """A receiver (a WeChat Work bot bridge, the city platform) and the event kinds it wants."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    # Shared secret for the HMAC-SHA256 signature; the receiver holds the same value.
    secret: Mapped[str] = mapped_column(String(200))
    # Event kinds (e.g. ["claimed", "escalated"]); empty = every kind.
    event_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    def wants(self, kind: str) -> bool:
        """Whether this subscription receives events of `kind`."""
        return not self.event_kinds or kind in self.event_kinds


class WebhookDelivery(Base):
    """One message to one subscription: attempts, backoff, outcome (never deleted: it is the record)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'delivered', 'failed')", name="state"),
        Index("ix_webhook_delivery_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscription.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
