"""coordinator.ratelimit: fixed-window counters in the database, shared by workers, counted even when the
request fails, expiring with their window; RateLimited answers 429 with Retry-After."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from coordinator import create_app, ratelimit
from coordinator.errors import RateLimited, render_error
from coordinator.extensions import COUNTER_ENGINE_KEY, commit_request_session, db_session, get_engine
from coordinator.ratelimit import RateLimitCounter

T0 = datetime(2026, 11, 30, 8, 0, 10, tzinfo=UTC)  # 10 s into a minute window


def _hits(session: Session, bucket: str) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(RateLimitCounter.hits), 0)).where(RateLimitCounter.bucket == bucket)
        )
        or 0
    )


def test_the_hit_after_the_limit_is_refused_until_the_window_ends(app: Flask) -> None:
    with app.test_request_context("/"):
        for _ in range(3):
            ratelimit.enforce("t:window", "k", limit=3, window_seconds=60, now=T0)
        with pytest.raises(RateLimited) as refused:
            ratelimit.enforce("t:window", "k", limit=3, window_seconds=60, now=T0 + timedelta(seconds=5))
        assert refused.value.headers == {"Retry-After": "45"}  # the window ends at 08:01:00
        assert refused.value.status == 429 and refused.value.code == "rate_limited"
        assert refused.value.details["limit"] == 3
        # another key has its own count; the next window starts again
        ratelimit.enforce("t:window", "other", limit=3, window_seconds=60, now=T0)
        ratelimit.enforce("t:window", "k", limit=3, window_seconds=60, now=T0 + timedelta(seconds=50))


def test_rate_limited_renders_429_with_retry_after_in_the_error_shape(app: Flask) -> None:
    with app.test_request_context("/api/v1/reports"):
        response = render_error(RateLimited("slow down", retry_after=7))
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert response.get_json()["error"]["code"] == "rate_limited"


def test_a_hit_counted_in_a_request_that_rolls_back_still_counts(app: Flask, session: Session) -> None:
    """The request's transaction holds the write lock (a POST): the hit is counted in it, and counted
    again after the request rolled back; a committed request counts it once."""
    with app.test_request_context("/", method="POST"):
        db_session()  # the request's transaction is open, as after authentication
        ratelimit.enforce("t:rollback", "k", limit=5, window_seconds=60, now=T0)
        # the request fails: its transaction is rolled back at teardown
    assert _hits(session, "t:rollback") == 1
    with app.test_request_context("/", method="POST"):
        db_session()
        ratelimit.enforce("t:rollback", "k", limit=5, window_seconds=60, now=T0)
        commit_request_session()
    assert _hits(session, "t:rollback") == 2


def test_a_refused_hit_counts_too(app: Flask, session: Session) -> None:
    with app.test_request_context("/", method="POST"):
        db_session()
        ratelimit.enforce("t:refused", "k", limit=1, window_seconds=60, now=T0)
        commit_request_session()
    for _ in range(2):
        with app.test_request_context("/", method="POST"), pytest.raises(RateLimited):
            db_session()
            ratelimit.enforce("t:refused", "k", limit=1, window_seconds=60, now=T0)
    assert _hits(session, "t:refused") == 3


def test_old_windows_expire(app: Flask, session: Session) -> None:
    with app.test_request_context("/"):
        ratelimit.enforce("t:expire", "a", limit=5, window_seconds=60, now=T0)
        ratelimit.enforce("t:expire", "b", limit=5, window_seconds=3600, now=T0)
    assert ratelimit.sweep(session, T0 + timedelta(minutes=2)) >= 1
    keys = set(session.scalars(select(RateLimitCounter.key).where(RateLimitCounter.bucket == "t:expire")))
    assert keys == {"b"}


def test_long_keys_are_hashed_not_cut() -> None:
    long_a, long_b = "x" * 200 + "a", "x" * 200 + "b"
    assert ratelimit.normalise_key("short") == "short"
    assert ratelimit.normalise_key(long_a) != ratelimit.normalise_key(long_b)
    assert len(ratelimit.normalise_key(long_a)) <= ratelimit.KEY_MAX


def test_the_limit_holds_across_workers(database_url: str, engine: object) -> None:
    """Two apps (two workers, or two hosts on PostgreSQL) with their own engines share one count."""
    bucket = f"t:workers:{uuid.uuid4().hex[:8]}"
    workers = [
        create_app({"database_url": database_url, "testing": True, "secret_key": "w"}) for _ in range(2)
    ]
    try:
        with workers[0].test_request_context("/"):
            for _ in range(2):
                ratelimit.enforce(bucket, "k", limit=4, window_seconds=60)
        with workers[1].test_request_context("/"):
            for _ in range(2):
                ratelimit.enforce(bucket, "k", limit=4, window_seconds=60)
            with pytest.raises(RateLimited):
                ratelimit.enforce(bucket, "k", limit=4, window_seconds=60)
        with workers[0].test_request_context("/"), pytest.raises(RateLimited):
            ratelimit.enforce(bucket, "k", limit=4, window_seconds=60)
    finally:
        with sessionmaker(get_engine(workers[0])).begin() as cleanup:
            cleanup.execute(delete(RateLimitCounter).where(RateLimitCounter.bucket == bucket))
        for worker in workers:
            get_engine(worker).dispose()
            worker.extensions[COUNTER_ENGINE_KEY].dispose()
