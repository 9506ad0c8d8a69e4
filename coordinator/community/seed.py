"""Default reward rules (data: admins change them through the API) and the demo compound."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.community.models import RewardRule

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
