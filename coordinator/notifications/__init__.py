"""Notifications to other systems: an outbox written in the case's transaction, delivered by webhooks."""
