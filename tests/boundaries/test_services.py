"""Boundary services against the real database: versioning, idempotent imports, shared borders."""

from __future__ import annotations

from geoalchemy2.shape import to_shape
from shapely import affinity
from shapely.geometry import MultiPolygon
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.boundaries import services
from coordinator.boundaries.models import AdminArea, BoundaryGeneration, SharedBorder
from geo.boundaries import AreaFeature


def area_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(AdminArea.level == "district")) or 0


def test_seed_is_idempotent(session: Session) -> None:
    before = area_count(session)
    plan, generation = services.seed_shipped_boundaries(session)
    assert generation is None
    assert not plan.has_changes
    assert area_count(session) == before == 16


def test_changed_geometry_adds_a_version_and_keeps_the_old_one(session: Session) -> None:
    old = services.get_area(session, "310120")
    shifted = affinity.translate(to_shape(old.geom), xoff=0.001)
    feature = AreaFeature(
        code="310120",
        name_zh="奉贤区",
        name_en="Fengxian",
        level="district",
        parent_code="310100",
        member=None,
        approximate=False,
        geometry=MultiPolygon(shifted.geoms),
    )
    plan = services.plan_import(session, [feature])
    assert [c.kind for c in plan.changes] == ["changed"]
    assert plan.changes[0].differences == ("geometry",)
    generation = services.apply_import(session, plan, source="test")
    assert generation is not None

    versions = session.scalars(
        select(AdminArea).where(AdminArea.code == "310120").order_by(AdminArea.version)
    ).all()
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].valid_to is not None and versions[0].retired_generation_id == generation.id
    assert versions[1].valid_to is None and versions[1].member  # member flag carried over
    assert services.get_area(session, "310120").version == 2
    # a district changed, so shared borders were recomputed under the new generation
    assert session.scalar(select(func.count()).where(SharedBorder.generation_id == generation.id))


def test_dry_run_plan_writes_nothing(session: Session) -> None:
    generations = session.scalar(select(func.count()).select_from(BoundaryGeneration))
    feature = AreaFeature(
        code="X1",
        name_zh="试验区",
        name_en=None,
        level="custom",
        parent_code=None,
        member=None,
        approximate=True,
        geometry=MultiPolygon(to_shape(services.get_area(session, "310116").geom).geoms),
    )
    plan = services.plan_import(session, [feature])
    assert plan.of_kind("new")
    assert session.scalar(select(func.count()).select_from(BoundaryGeneration)) == generations
    assert area_count(session) == 16


def test_member_borders_are_stored(session: Session) -> None:
    borders = services.list_shared_borders(session)
    assert {(b.code_a, b.code_b) for b in borders} == {
        ("310115", "310120"),
        ("310116", "310117"),
        ("310116", "310120"),
        ("310117", "310120"),
    }
    assert all(b.length_m > 1000 for b in borders)
