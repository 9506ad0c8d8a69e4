"""Default reward rules (data: admins change them through the API) and the demo compound."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.community.models import Compound, RewardRule
from coordinator.geolocation.services import load_locator_input, locator_key
from geo.locator import Locator

# Citizens (source `citizen`) earn for the dumping categories the alliance most wants reported; the
# first three reporters of a case earn, at most 50 points a day each; five reports within ten minutes
# flag the report for an admin to look at.
REWARD_RULES: list[dict[str, Any]] = [
    {"name": f"citizen-{code}", "priority": 10 + i, "category_code": code, "source": "citizen", "points": 10}
    for i, code in enumerate(("01-11", "01-12", "01-51"))
] + [
    {"name": "citizen-other", "priority": 100, "category_code": None, "source": "citizen", "points": 5},
]
for _rule in REWARD_RULES:
    _rule.update(trigger="verified", first_k=3, daily_cap=50, burst_count=5, burst_minutes=10, active=True)


def seed_reward_rules(session: Session) -> int:
    """Insert the default rules that are missing by name (existing rows stay as admins set them)."""
    have = set(session.scalars(select(RewardRule.name)))
    new = [RewardRule(**r) for r in REWARD_RULES if r["name"] not in have]
    session.add_all(new)
    session.flush()
    return len(new)


DEMO_COMPOUND = "【演示】柘林海湾花苑"
DEMO_COMPOUND_ADDRESS = "奉贤区柘林镇（演示地址）"
DEMO_MANAGER = "demo_property"
# A small square in 柘林 (奉贤), near the border with 金山's 漕泾: the demo squad's town.
_LON, _LAT, _HALF = 121.437, 30.821, 0.0008
DEMO_COMPOUND_GEOMETRY = {
    "type": "Polygon",
    "coordinates": [
        [
            [_LON - _HALF, _LAT - _HALF],
            [_LON + _HALF, _LAT - _HALF],
            [_LON + _HALF, _LAT + _HALF],
            [_LON - _HALF, _LAT + _HALF],
            [_LON - _HALF, _LAT - _HALF],
        ]
    ],
}


def seed_demo_compound(session: Session, admin: User, locator: Locator | None = None) -> str:
    """The demo compound in 柘林, managed by `demo_property` (registered by `admin`); once, by name."""
    from coordinator.community import renovation

    if session.scalar(select(Compound.id).where(Compound.name == DEMO_COMPOUND)) is not None:
        return f"demo compound {DEMO_COMPOUND}: already there"
    if locator is None:  # built from the session, as the demo hotspots do (a cache would close it)
        locator = Locator(load_locator_input(session, locator_key(session)))
    compound = renovation.create_compound(
        session,
        locator,
        admin,
        name=DEMO_COMPOUND,
        address=DEMO_COMPOUND_ADDRESS,
        geometry=DEMO_COMPOUND_GEOMETRY,
        managers=[DEMO_MANAGER],
    )
    return f"demo compound {DEMO_COMPOUND} (town {compound.town_code}): managed by {DEMO_MANAGER}"
