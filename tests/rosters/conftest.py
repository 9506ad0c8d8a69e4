"""Fixtures for roster tests: the demo hotspots and a dispatcher's token."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from coordinator.hotspots.demo import seed_demo_hotspots
from tests.factories import make_token, make_user

# A fortnight whose holidays are published (2026), with no holiday in it.
START = date(2026, 12, 7)  # a Monday


@pytest.fixture
def demo_hotspots(session: Session) -> Session:
    """`seed demo`'s hotspots, in the test's transaction."""
    assert seed_demo_hotspots(session) >= 5
    session.commit()
    return session


@pytest.fixture
def dispatcher_token(session: Session) -> str:
    """A Fengxian dispatcher's API token."""
    token = make_token(session, make_user(session, "dispatcher", district="310120"))
    session.commit()
    return token
