"""Import every domain's models so `Base.metadata` knows all tables (Alembic and tests rely on it)."""

from coordinator.boundaries.models import (
    AdminArea,
    BorderZone,
    BorderZoneSetting,
    BoundaryGeneration,
    SharedBorder,
)

__all__ = ["AdminArea", "BorderZone", "BorderZoneSetting", "BoundaryGeneration", "SharedBorder"]
