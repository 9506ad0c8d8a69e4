"""Fixtures for squad tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from coordinator.squads import services


@pytest.fixture
def demo_territory(session: Session) -> Session:
    """The approximate demo jurisdictions and one squad per jurisdiction, in the test's transaction."""
    services.seed_demo_territory(session)
    session.flush()
    return session
