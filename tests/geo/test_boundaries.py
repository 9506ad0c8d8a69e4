"""Reading and validating boundary files (geo.boundaries), without a database."""

from __future__ import annotations

import json
from typing import Any

import pytest

from geo.boundaries import (
    BoundaryFileError,
    load_feature_collection,
    parse_features,
    read_boundary_file,
    shipped_districts_path,
)

SQUARE = [[121.40, 30.90], [121.41, 30.90], [121.41, 30.91], [121.40, 30.91], [121.40, 30.90]]
BOWTIE = [[121.40, 30.90], [121.41, 30.91], [121.41, 30.90], [121.40, 30.91], [121.40, 30.90]]


def fc(*features: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", **extra, "features": list(features)}


def feature(code: str = "310120001", ring: list[list[float]] = SQUARE, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": "测试镇", **props},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_shipped_districts_parse_as_16_valid_districts_with_4_members() -> None:
    areas = parse_features(read_boundary_file(shipped_districts_path()))
    assert len(areas) == 16
    assert {a.code for a in areas if a.member} == {"310115", "310116", "310117", "310120"}
    assert all(a.geometry.is_valid and not a.repairs for a in areas)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ('{"type": "FeatureCollection", "features": [{"type": "Feat', "truncated"),
        ("[1, 2, 3]", "not a GeoJSON FeatureCollection"),
        ('{"hello": "world"}', "not a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "no features"),
        ('{"type": "FeatureCollection"}', "no 'features' list"),
    ],
)
def test_unreadable_files_are_refused_with_a_clear_message(content: str, message: str) -> None:
    with pytest.raises(BoundaryFileError, match=message):
        load_feature_collection(content)


def test_projected_coordinates_are_refused() -> None:
    ring = [[350000.0, 3420000.0], [351000.0, 3420000.0], [351000.0, 3421000.0], [350000.0, 3420000.0]]
    with pytest.raises(BoundaryFileError) as err:
        parse_features(fc(feature(ring=ring)))
    assert "projected" in err.value.details[0]


def test_declared_foreign_crs_is_refused() -> None:
    data = json.dumps(fc(feature(), crs={"type": "name", "properties": {"name": "EPSG:32651"}}))
    with pytest.raises(BoundaryFileError, match="EPSG:32651"):
        load_feature_collection(data)


def test_swapped_lat_lon_is_named() -> None:
    ring = [[y, x] for x, y in SQUARE]
    with pytest.raises(BoundaryFileError) as err:
        parse_features(fc(feature(ring=ring)))
    assert "latitude, longitude" in err.value.details[0]


def test_self_intersecting_ring_is_repaired_and_reported() -> None:
    (area,) = parse_features(fc(feature(ring=BOWTIE)), default_level="town")
    assert area.geometry.is_valid
    assert len(area.geometry.geoms) == 2  # the bowtie becomes two triangles
    assert area.repairs and "Self-intersection" in area.repairs[0]
    assert area.parent_code == "310120"  # derived from the 9-digit town code


def test_every_bad_feature_is_reported_not_just_the_first() -> None:
    bad = fc(
        feature("A1"),
        feature("A1"),
        {"type": "Feature", "properties": {"name": "无编码"}, "geometry": None},
        {
            "type": "Feature",
            "properties": {"code": "P1", "name": "点"},
            "geometry": {"type": "Point", "coordinates": [121.4, 30.9]},
        },
    )
    with pytest.raises(BoundaryFileError) as err:
        parse_features(bad)
    text = "\n".join(err.value.details)
    assert "repeats" in text and "needs a 'code'" in text and "Polygon or MultiPolygon" in text
    assert "nothing was written" in err.value.message


def test_unknown_level_is_refused() -> None:
    with pytest.raises(BoundaryFileError, match="level 'county'"):
        parse_features(fc(feature(level="county")))


def test_progress_callback_counts_features() -> None:
    seen: list[int] = []
    parse_features(fc(feature("A1"), feature("A2")), progress=seen.append)
    assert sum(seen) == 2
