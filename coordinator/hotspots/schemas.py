"""Requests and answers of the hotspot API (GeoJSON out, RFC 7946)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from coordinator.geojson import CollectionType, FeatureType, Geometry
from coordinator.hotspots.models import MAX_MIN_PATROLS
from coordinator.validation import PatchModel, QueryModel

Kind = Literal["ditch", "dead_end_road", "vacant_lot", "other"]
KIND_HELP = "ditch 沟渠, dead_end_road 断头路, vacant_lot 空地, other 其他."


class HotspotIn(BaseModel):
    """A new hotspot: a named point in the border zone of two member districts."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    kind: Kind = Field(description=KIND_HELP)
    lon: float = Field(allow_inf_nan=False, ge=-180, le=180, description="WGS-84 longitude.")
    lat: float = Field(allow_inf_nan=False, ge=-90, le=90, description="WGS-84 latitude.")
    min_patrols_per_week: int = Field(default=1, ge=0, le=MAX_MIN_PATROLS)
    note: str = Field(default="", max_length=2000)
    from_proposal: bool = Field(default=False, description="Taken from GET /hotspots/proposals.")


class HotspotPatch(PatchModel):
    """Edits (omitted fields stay). Moving needs lon and lat together."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: Kind | None = None
    lon: float | None = Field(default=None, allow_inf_nan=False, ge=-180, le=180)
    lat: float | None = Field(default=None, allow_inf_nan=False, ge=-90, le=90)
    min_patrols_per_week: int | None = Field(default=None, ge=0, le=MAX_MIN_PATROLS)
    note: str | None = Field(default=None, max_length=2000)


class HotspotQuery(QueryModel):
    """Filters for the hotspot list."""

    active: bool | None = Field(default=True, description="Active (default), retired, or all.")


class HotspotProperties(BaseModel):
    """A hotspot's properties."""

    id: int
    name: str
    kind: Kind
    kind_label: str
    pair: list[str] = Field(description="The border pair (district codes).")
    min_patrols_per_week: int
    weight: float = Field(description="1 + Σ exp(−age/30 d) over dumping cases within 300 m, last 90 days.")
    recent_cases: int
    first_case_at: datetime | None
    last_case_at: datetime | None
    note: str
    origin: Literal["manual", "proposal"]
    active: bool
    retired_at: datetime | None


class HotspotFeature(BaseModel):
    """A hotspot as a GeoJSON Feature (Point)."""

    type: FeatureType = "Feature"
    id: int
    properties: HotspotProperties
    geometry: Geometry


class HotspotCollection(BaseModel):
    """Hotspots as a FeatureCollection."""

    type: CollectionType = "FeatureCollection"
    features: list[HotspotFeature]


class ProposalQuery(QueryModel):
    """How to cluster recent dumping cases."""

    days: int = Field(default=30, ge=1, le=365, description="Cases of the last N days.")
    eps_m: float = Field(default=200.0, gt=0, le=2000, description="DBSCAN neighbourhood radius in metres.")
    min_cases: int = Field(default=3, ge=2, le=100, description="DBSCAN min samples.")


class ProposalProperties(BaseModel):
    """Why a place is proposed: its case count and date range."""

    pair: list[str]
    case_count: int
    first_case_at: datetime
    last_case_at: datetime
    case_numbers: list[str]
    explanation: str


class ProposalFeature(BaseModel):
    """A proposed hotspot (centre of a cluster)."""

    type: FeatureType = "Feature"
    properties: ProposalProperties
    geometry: Geometry


class ProposalCollection(BaseModel):
    """Proposals, largest cluster first."""

    type: CollectionType = "FeatureCollection"
    features: list[ProposalFeature]
