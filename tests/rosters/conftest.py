"""Fixtures for roster tests: the demo hotspots and a dispatcher's token."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from coordinator.geolocation.services import LocatorCache
from coordinator.hotspots.demo import seed_demo_hotspots
from tests.factories import make_token, make_user

# A fortnight whose holidays are published (2026), with no holiday in it.
START = date(2026, 12, 7)  # a Monday


@pytest.fixture
def demo_hotspots(
    session: Session, session_factory: sessionmaker[Session], locator_cache: LocatorCache
) -> Session:
    """`seed demo`'s hotspots, in the test's transaction (placed with the run's shared locator)."""
    assert seed_demo_hotspots(session, locator_cache.get(session_factory)) >= 5
    session.commit()
    return session


@pytest.fixture
def dispatcher_token(session: Session) -> str:
    """A Fengxian dispatcher's API token."""
    token = make_token(session, make_user(session, "dispatcher", district="310120"))
    session.commit()
    return token
