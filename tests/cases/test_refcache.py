"""The per-process reference cache: local changes apply at once, others within the TTL."""

from __future__ import annotations

import pytest
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from coordinator import refcache
from coordinator.cases.models import Category
from coordinator.cases.reference import load_reference, reference_data
from coordinator.errors import ValidationFailed
from coordinator.refcache import INFO_KEY, ReferenceCache


def _cache(session: Session) -> ReferenceCache:
    cache = session.info.get(INFO_KEY)
    assert isinstance(cache, ReferenceCache)
    return cache


def test_snapshot_is_reused_until_a_local_orm_change(session: Session) -> None:
    first = reference_data(session)
    assert reference_data(session) is first  # served from the cache: no new snapshot
    category = session.get(Category, "01-11")
    assert category is not None
    category.dedup_radius_m = 321.0
    session.flush()  # the flush invalidates every entry of every cache in the process
    assert reference_data(session).category("01-11").dedup_radius_m == 321.0


def test_bulk_update_invalidates(session: Session) -> None:
    reference_data(session).category("01-11")
    session.execute(update(Category).where(Category.code == "01-11").values(active=False))
    with pytest.raises(ValidationFailed):
        reference_data(session).category("01-11")


def test_changes_the_orm_does_not_see_apply_after_the_ttl(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = _cache(session)
    assert reference_data(session).category("01-11").dedup_radius_m != 555.0
    # Raw SQL stands for another process (a CLI command, another worker): no event fires here.
    session.execute(text("UPDATE category SET dedup_radius_m = 555 WHERE code = '01-11'"))
    session.info.pop("coordinator.reference_touched", None)
    assert reference_data(session).category("01-11").dedup_radius_m != 555.0  # still cached
    clock = refcache.time.monotonic() + cache.ttl_s + 0.1
    monkeypatch.setattr(refcache.time, "monotonic", lambda: clock)
    assert reference_data(session).category("01-11").dedup_radius_m == 555.0


def test_snapshot_matches_an_uncached_read(session: Session) -> None:
    assert reference_data(session) == load_reference(session)
