"""Import every domain's models so `Base.metadata` knows all tables (Alembic and tests rely on it)."""

from coordinator.auth.models import ApiToken, ContactAccessLog, User
from coordinator.boundaries.models import (
    AdminArea,
    BorderZone,
    BorderZoneSetting,
    BoundaryGeneration,
    SharedBorder,
)
from coordinator.squads.models import DispatchUnit, Squad

__all__ = [
    "AdminArea",
    "ApiToken",
    "BorderZone",
    "BorderZoneSetting",
    "BoundaryGeneration",
    "ContactAccessLog",
    "DispatchUnit",
    "SharedBorder",
    "Squad",
    "User",
]
