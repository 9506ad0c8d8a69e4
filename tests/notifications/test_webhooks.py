"""Outbox → webhook delivery: a receiver that is down gets the event later, signed; retries back off and
give up after N attempts; case work never waits for delivery."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from coordinator.cases import workflow
from coordinator.notifications import services
from coordinator.notifications.models import WebhookDelivery
from tests.factories import make_case, make_squad, make_user

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
SECRET = "s3cr3t-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that records what it is sent."""

    def __init__(self, port: int) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_down_receiver_gets_the_event_later_signed(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    port = free_port()  # nothing listens here yet: the receiver is down
    services.add_subscription(
        session, name="wecom-bot", url=f"http://127.0.0.1:{port}/hook", secret=SECRET, kinds=["claimed"]
    )
    lead = make_squad(session)
    case = make_case(session, lead=lead)
    member = make_user(session, "squad_member", squad=lead)
    # case work goes on while the receiver is down: the claim commits, delivery is someone else's job
    workflow.claim(session, case.id, member, now=T0)
    session.commit()
    assert case.status == "claimed"

    first = services.deliver_pending(session_factory, now=T0, timeout_s=2)
    assert (first.fanned_out, first.attempted, first.delivered) == (1, 1, 0)
    delivery = session.scalars(select(WebhookDelivery)).one()
    session.refresh(delivery)
    assert delivery.state == "pending" and delivery.attempts == 1
    assert delivery.last_error and "Connection" in delivery.last_error
    assert delivery.next_attempt_at == T0 + timedelta(seconds=services.BACKOFF_BASE_S)

    with Receiver(port) as receiver:
        early = services.deliver_pending(session_factory, now=T0 + timedelta(seconds=10))
        assert early.attempted == 0  # backing off
        later = T0 + timedelta(seconds=31)
        done = services.deliver_pending(session_factory, now=later)
        assert (done.attempted, done.delivered) == (1, 1)
    headers, body = receiver.received[0]
    doc = json.loads(body)
    assert doc["kind"] == "claimed" and doc["case_id"] == case.id
    assert doc["data"]["case_number"] == case.number
    assert headers[services.EVENT_HEADER] == "claimed"
    ts, sig = headers[services.TIMESTAMP_HEADER], headers[services.SIGNATURE_HEADER]
    assert services.verify_signature(SECRET, ts, body, sig, now=later)
    assert not services.verify_signature(SECRET, ts, body + b" ", sig, now=later)  # tampered
    assert not services.verify_signature("wrong", ts, body, sig, now=later)
    assert not services.verify_signature(SECRET, ts, body, sig, now=later + timedelta(hours=1))  # replay
    session.refresh(delivery)
    assert delivery.state == "delivered" and delivery.attempts == 2 and delivery.delivered_at == later


def test_gives_up_after_max_attempts_and_records_why(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    services.add_subscription(
        session, name="dead", url=f"http://127.0.0.1:{free_port()}/", secret="x", kinds=[]
    )
    lead = make_squad(session)
    case = make_case(session, lead=lead)
    workflow.claim(session, case.id, make_user(session, "squad_leader", squad=lead), now=T0)
    session.commit()
    now = T0
    for _ in range(3):
        services.deliver_pending(session_factory, now=now, max_attempts=3, timeout_s=1)
        now += timedelta(hours=2)
    delivery = session.scalars(select(WebhookDelivery)).one()
    session.refresh(delivery)
    assert delivery.state == "failed" and delivery.attempts == 3
    assert delivery.last_error
    assert services.deliver_pending(session_factory, now=now).attempted == 0


def test_a_run_keeps_its_deliveries_while_it_may_still_be_posting_them(
    session: Session, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run posts its batch one by one, each POST waiting up to the timeout: another runner must not
    take the same deliveries while the last of a full batch (100) could still be waiting."""
    services.add_subscription(session, name="slow", url="http://127.0.0.1:9/", secret="x", kinds=[])
    lead = make_squad(session)
    for _ in range(3):
        case = make_case(session, lead=lead)
        workflow.claim(session, case.id, make_user(session, "squad_member", squad=lead), now=T0)
    session.commit()
    timeout_s = 5.0
    taken_by_another_runner: list[int] = []

    def post_while_another_runner_looks(
        item: services.Leased, *, now: datetime, timeout_s: float
    ) -> tuple[int | None, str | None]:
        last_of_a_full_batch = now + timedelta(seconds=100 * timeout_s - 1)
        with session_factory() as other:
            taken_by_another_runner.append(len(services.lease_due(other, now=last_of_a_full_batch)))
            other.rollback()
        return None, "TimeoutError: timed out"

    monkeypatch.setattr(services, "post", post_while_another_runner_looks)
    stats = services.deliver_pending(session_factory, now=T0, timeout_s=timeout_s)
    assert stats.attempted == 3
    assert taken_by_another_runner == [0, 0, 0]


def test_only_subscribed_kinds_and_active_subscriptions(session: Session) -> None:
    services.add_subscription(
        session, name="claims", url="http://127.0.0.1:9/", secret="x", kinds=["claimed"]
    )
    services.add_subscription(
        session, name="off", url="http://127.0.0.1:9/", secret="x", kinds=[], active=False
    )
    services.enqueue(session, "escalated", None, {}, now=T0)
    services.enqueue(session, "claimed", None, {}, now=T0)
    services.enqueue(session, "started", None, {}, now=T0)  # not a notifiable kind: no message
    assert services.fan_out(session, now=T0) == 2
    assert len(session.scalars(select(WebhookDelivery)).all()) == 1
    with pytest.raises(ValueError, match="unknown event kind"):
        services.add_subscription(session, name="bad", url="http://x/", secret="x", kinds=["nope"])


def test_backoff_doubles_and_is_capped() -> None:
    assert [services.backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert services.backoff(30).total_seconds() == services.BACKOFF_CAP_S


def test_webhooks_cli(cli: FlaskCliRunner) -> None:
    added = cli.invoke(
        args=[
            "webhooks",
            "add",
            "city",
            "https://city.example.cn/hook",
            "--secret",
            "k",
            "--event",
            "escalated",
        ]
    )
    assert added.exit_code == 0, added.output
    assert "escalated" in added.output
    listed = cli.invoke(args=["webhooks", "list"])
    assert "city\tyes\thttps://city.example.cn/hook\tescalated\t0\t0\t0" in listed.output
    bad = cli.invoke(args=["webhooks", "add", "x", "ftp://x", "--secret", "k"])
    assert bad.exit_code != 0
