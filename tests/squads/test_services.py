"""Squad imports (JSON and GeoJSON), validation before writing, and point lookups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import box, mapping
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.boundaries.models import AdminArea
from coordinator.squads import services
from coordinator.squads.models import Squad
from tests.factories import make_area, make_squad

BOX = box(121.45, 30.84, 121.47, 30.86)  # in Fengxian, near 柘林


def squad_count(session: Session) -> int:
    return int(session.scalar(select(func.count(Squad.id))) or 0)


def write(tmp_path: Path, doc: object, name: str = "squads.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def record(code: str, jurisdiction: str | None, district: str = "310120") -> dict[str, object]:
    return {
        "code": code,
        "name_zh": "海湾中队",
        "name_en": "Haiwan squad",
        "district": district,
        "jurisdiction": jurisdiction,
        "categories": ["01-10", "01-11"],
        "night_capacity": 3,
        "contact_channel": "wecom:fx-haiwan",
    }


def test_json_import_writes_squads_under_the_district_desk(session: Session, tmp_path: Path) -> None:
    area = make_area(session)
    plan = services.import_squad_file(session, write(tmp_path, {"squads": [record("SQ-HW", area.code)]}))
    assert plan.of_kind("new")[0].record.code == "SQ-HW"
    squad = services.get_squad(session, "SQ-HW")
    assert squad.dispatch_unit.code == "DU-310120" and squad.categories == ["01-10", "01-11"]
    assert squad.handles("01-10") and not squad.handles("01-01")
    again = services.import_squad_file(session, write(tmp_path, [record("SQ-HW", area.code)]))
    assert not again.has_changes


def test_bad_file_reports_every_problem_and_writes_nothing(session: Session, tmp_path: Path) -> None:
    taken = make_area(session)
    make_squad(session, jurisdiction=taken.code)
    elsewhere = make_area(session, district="310116", polygon=box(121.2, 30.8, 121.21, 30.81))
    before = squad_count(session)
    bad = [
        record("SQ-A", taken.code),  # held by another active squad
        record("SQ-B", elsewhere.code),  # a Jinshan area for a Fengxian squad
        record("SQ-C", "NO-SUCH-AREA"),
        record("SQ-D", None, district="310101"),  # not a member district
        {**record("SQ-E", None), "night_capacity": 9},  # more than 7 nights a week
        record("SQ-F", None),
        record("SQ-F", None),  # twice
    ]
    with pytest.raises(services.SquadImportError) as info:
        records, areas = services.read_squad_file(json.dumps(bad))
    assert any("night_capacity" in d for d in info.value.details)
    with pytest.raises(services.SquadImportError) as info:
        records, areas = services.read_squad_file(json.dumps([r for r in bad if r["code"] != "SQ-E"]))
        services.plan_squad_import(session, records, areas)
    text = "\n".join(info.value.details)
    for expected in (
        "held by 2 active squads",
        "lies in 310116",
        "no boundary NO-SUCH-AREA",
        "not a member",
        "2 times",
    ):
        assert expected in text
    assert squad_count(session) == before


def test_geojson_import_brings_versioned_jurisdictions(session: Session, tmp_path: Path) -> None:
    def collection(polygon: object) -> dict[str, object]:
        props = {**record("SQ-GJ", "FX-HAIWAN"), "jurisdiction_name": "海湾辖区", "approximate": False}
        return {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": props, "geometry": mapping(polygon)}],
        }

    services.import_squad_file(session, write(tmp_path, collection(BOX), "a.geojson"))
    area = session.scalars(select(AdminArea).where(AdminArea.code == "FX-HAIWAN")).one()
    assert (area.level, area.parent_code, area.name_zh, area.version) == ("custom", "310120", "海湾辖区", 1)
    # the demo territory (seeded for every test) also covers the point; the import adds SQ-GJ there
    assert "SQ-GJ" in [s.code for s in services.squads_at(session, 121.46, 30.85)]

    services.import_squad_file(
        session, write(tmp_path, collection(box(121.45, 30.84, 121.48, 30.86)), "b.geojson")
    )
    versions = session.scalars(select(AdminArea.version).where(AdminArea.code == "FX-HAIWAN")).all()
    assert sorted(versions) == [1, 2]  # a new version, never an overwrite
    assert "SQ-GJ" in [s.code for s in services.squads_at(session, 121.475, 30.85)]


def test_geojson_with_a_broken_geometry_writes_nothing(session: Session, tmp_path: Path) -> None:
    before = squad_count(session)
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": record("SQ-OK", "J-OK"), "geometry": mapping(BOX)},
            {
                "type": "Feature",
                "properties": record("SQ-BAD", "J-BAD"),
                "geometry": {"type": "Point", "coordinates": [121.4, 30.9]},
            },
        ],
    }
    with pytest.raises(services.SquadImportError, match="nothing was written") as info:
        services.import_squad_file(session, write(tmp_path, doc, "c.geojson"))
    assert "SQ-BAD" in "\n".join(info.value.details)
    assert squad_count(session) == before


def test_inactive_squads_do_not_own_points(session: Session) -> None:
    area = make_area(session)
    squad = make_squad(session, jurisdiction=area.code)
    assert squad in services.squads_at(session, 121.46, 30.85)
    squad.active = False
    session.flush()
    assert squad not in services.squads_at(session, 121.46, 30.85)
