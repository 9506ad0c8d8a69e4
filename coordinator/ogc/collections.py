"""The OGC API – Features collections: one declaration each (`COLLECTIONS`), and the two kinds of source
behind them — a small layer read whole and filtered in memory (districts, towns, border zones, squads),
and the cases, filtered and paged in SQL.

Adding a collection is one `Collection(...)` in `COLLECTIONS` (id, titles, its GeoJSON feature model and
a source) plus its access rule in coordinator.policy (`**ogc_rules("<id>", RULE)`): the routes, the
OpenAPI operations and the collection list follow from the declaration (coordinator/ogc/views.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import shapely
from geoalchemy2.shape import to_shape
from pydantic import BaseModel
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from coordinator.auth.models import User
from coordinator.boundaries import services as boundaries
from coordinator.boundaries.schemas import BorderZoneFeature, BoundaryFeature
from coordinator.boundaries.views import area_feature, district_names, zone_feature
from coordinator.cases.models import Case
from coordinator.cases.presenters import CasePresenter
from coordinator.cases.queries import bbox_condition
from coordinator.cases.schemas import CaseFeature
from coordinator.errors import NotFound
from coordinator.geojson import Bbox
from coordinator.hotspots import services as hotspot_services
from coordinator.hotspots.schemas import HotspotFeature
from coordinator.hotspots.views import hotspot_feature
from coordinator.squads import services as squads
from coordinator.squads.schemas import SquadFeature
from coordinator.squads.views import squad_feature
from coordinator.worktime import SHANGHAI

Interval = tuple[datetime | None, datetime | None]  # None: open


@dataclass(frozen=True)
class Filter:
    """What an items request asks for."""

    bbox: Bbox | None
    interval: Interval | None  # None: any time
    limit: int
    offset: int


@dataclass(frozen=True)
class Extent:
    """A collection's extent: (west, south, east, north) and its time span (None: no time)."""

    bbox: tuple[float, float, float, float] | None
    interval: Interval | None


class Source(Protocol):
    """Where a collection's features come from."""

    @property
    def temporal(self) -> bool:
        """Whether its features have a time (`datetime` filters them)."""

    def page(self, session: Session, flt: Filter, viewer: User | None) -> tuple[list[dict[str, Any]], int]:
        """A page of features and how many match in all."""

    def one(self, session: Session, feature_id: str, viewer: User | None) -> dict[str, Any]:
        """One feature, or NotFound."""

    def extent(self, session: Session) -> Extent:
        """Where and when the features lie."""


def _overlaps(span: Interval | None, asked: Interval) -> bool:
    if (
        span is None
    ):  # a feature without time matches no time filter (OGC 17-069r4 /req/core/fc-time-response)
        return False
    start, end = span
    lo, hi = asked
    return (hi is None or start is None or start <= hi) and (lo is None or end is None or lo < end)


@dataclass(frozen=True)
class LayerItem:
    """A feature of a small layer, with its shape and time for filtering."""

    feature: dict[str, Any]
    shape: BaseGeometry | None
    span: Interval | None


@dataclass(frozen=True)
class LayerSource:
    """A layer small enough to read whole (tens of features) and filter in memory."""

    load: Callable[[Session], Sequence[LayerItem]]
    temporal: bool = True

    def _matching(self, session: Session, flt: Filter) -> list[LayerItem]:
        box = flt.bbox.shape() if flt.bbox else None
        return [
            item
            for item in self.load(session)
            if (box is None or (item.shape is not None and item.shape.intersects(box)))
            and (flt.interval is None or _overlaps(item.span, flt.interval))
        ]

    def page(self, session: Session, flt: Filter, viewer: User | None) -> tuple[list[dict[str, Any]], int]:
        items = self._matching(session, flt)
        return [i.feature for i in items[flt.offset : flt.offset + flt.limit]], len(items)

    def one(self, session: Session, feature_id: str, viewer: User | None) -> dict[str, Any]:
        for item in self.load(session):
            if str(item.feature["id"]) == feature_id:
                return item.feature
        raise NotFound(f"no feature {feature_id!r} in this collection", details={"featureId": feature_id})

    def extent(self, session: Session) -> Extent:
        items = self.load(session)
        shapes = [i.shape for i in items if i.shape is not None]
        bbox = tuple(shapely.union_all(shapes).bounds) if shapes else None
        starts = [i.span[0] for i in items if i.span and i.span[0]]
        span = (min(starts), None) if self.temporal and starts else None
        return Extent(bbox, span)


def _areas(level: str) -> Callable[[Session], list[LayerItem]]:
    def load(session: Session) -> list[LayerItem]:
        return [
            LayerItem(area_feature(a), to_shape(a.geom), (a.valid_from, a.valid_to))
            for a in boundaries.current_areas(session, level=level)
        ]

    return load


def _zones(session: Session) -> list[LayerItem]:
    names = district_names()
    return [
        LayerItem(zone_feature(z, names), to_shape(z.geom), (z.created_at, z.superseded_at))
        for z in boundaries.current_border_zones(session)
    ]


def _squads(session: Session) -> list[LayerItem]:
    active = squads.list_squads(session, active=True)
    areas = squads.jurisdiction_areas(session, active)
    names = district_names()
    items = []
    for squad in active:
        area = areas.get(squad.jurisdiction_code or "")
        feature = squad_feature(squad, area, names)
        items.append(LayerItem(feature, to_shape(area.geom) if area else None, None))
    return items


def _hotspots(session: Session) -> list[LayerItem]:
    active = hotspot_services.list_hotspots(session, active=True)
    weight = hotspot_services.weights(session, active, now=datetime.now(UTC))
    return [
        LayerItem(
            hotspot_feature(h, weight[h.id]).model_dump(mode="json"),
            shapely.Point(h.lon, h.lat),
            (h.created_at, h.retired_at),
        )
        for h in active
    ]


class CaseSource:
    """The caseload, filtered and paged in SQL (newest first), as the case list shows it: no contact data."""

    temporal = True

    def page(self, session: Session, flt: Filter, viewer: User | None) -> tuple[list[dict[str, Any]], int]:
        stmt = select(Case)
        if flt.bbox:
            stmt = stmt.where(bbox_condition(session, flt.bbox))
        if flt.interval:
            start, end = flt.interval
            if start is not None:
                stmt = stmt.where(Case.created_at >= start)
            if end is not None:
                stmt = stmt.where(Case.created_at <= end)
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        cases = list(
            session.scalars(
                stmt.order_by(Case.created_at.desc(), Case.id.desc())
                .offset(flt.offset)
                .limit(flt.limit)
                .options(selectinload(Case.partners))
            )
        )
        presenter = CasePresenter(session, cases, now=datetime.now(SHANGHAI), viewer=viewer)
        return [presenter.feature(c) for c in cases], total

    def one(self, session: Session, feature_id: str, viewer: User | None) -> dict[str, Any]:
        case = None
        if feature_id.isascii() and feature_id.isdigit() and len(feature_id) <= 10:
            case = session.get(Case, int(feature_id))
        if case is None:
            raise NotFound(f"no case {feature_id!r}", details={"featureId": feature_id})
        return CasePresenter(session, [case], now=datetime.now(SHANGHAI), viewer=viewer).feature(case)

    def extent(self, session: Session) -> Extent:
        row = session.execute(
            select(
                func.min(Case.lon),
                func.min(Case.lat),
                func.max(Case.lon),
                func.max(Case.lat),
                func.min(Case.created_at),
                func.max(Case.created_at),
            )
        ).one()
        if row[0] is None:
            return Extent(None, None)
        return Extent((row[0], row[1], row[2], row[3]), (row[4], row[5]))


@dataclass(frozen=True)
class Collection:
    """One OGC API – Features collection."""

    id: str
    title: str
    description: str
    feature: type[BaseModel]  # the GeoJSON feature model of its items
    source: Source

    @property
    def key(self) -> str:
        """The collection's part of its endpoint names (`ogc.<key>_items`)."""
        return self.id.replace("-", "_")


COLLECTIONS: tuple[Collection, ...] = (
    Collection(
        "districts",
        "区 Districts",
        "The 16 Shanghai districts in force; `member` marks the four alliance districts.",
        BoundaryFeature,
        LayerSource(_areas("district")),
    ),
    Collection(
        "towns",
        "街镇 Towns",
        "Towns and jurisdictions in force (demo jurisdictions are approximate: `approximate: true`).",
        BoundaryFeature,
        LayerSource(_areas("town")),
    ),
    Collection(
        "border-zones",
        "交界地带 Border zones",
        "The band along each shared border of two member districts.",
        BorderZoneFeature,
        LayerSource(_zones),
    ),
    Collection(
        "squads",
        "城管中队 Squads",
        "Active squads; each geometry is the squad's jurisdiction.",
        SquadFeature,
        LayerSource(_squads, temporal=False),
    ),
    Collection(
        "hotspots",
        "巡查热点 Hotspots",
        "Active dumping hotspots on the member borders, with their caseload weight.",
        HotspotFeature,
        LayerSource(_hotspots),
    ),
    Collection(
        "cases",
        "案件 Cases",
        "The shared caseload as the case list shows it (no reporter contact data), newest first; time: "
        "`created_at`.",
        CaseFeature,
        CaseSource(),
    ),
)

BY_ID = {c.id: c for c in COLLECTIONS}
