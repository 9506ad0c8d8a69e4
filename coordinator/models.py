"""Import every domain's models so `Base.metadata` knows all tables (Alembic and tests rely on it)."""

from coordinator.auth.models import ApiToken, ContactAccessLog, User
from coordinator.boundaries.models import (
    AdminArea,
    BorderZone,
    BorderZoneSetting,
    BoundaryGeneration,
    SharedBorder,
)
from coordinator.cases.models import (
    Case,
    CaseEvent,
    CaseNumberCounter,
    CasePartner,
    Category,
    Report,
    RoutingRule,
)
from coordinator.squads.models import DispatchUnit, Squad

__all__ = [
    "AdminArea",
    "ApiToken",
    "BorderZone",
    "BorderZoneSetting",
    "BoundaryGeneration",
    "Case",
    "CaseEvent",
    "CaseNumberCounter",
    "CasePartner",
    "Category",
    "ContactAccessLog",
    "DispatchUnit",
    "Report",
    "RoutingRule",
    "SharedBorder",
    "Squad",
    "User",
]
