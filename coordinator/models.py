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
    CaseEventPurge,
    CaseNumberCounter,
    CasePartner,
    CaseTransfer,
    Category,
    Report,
    RoutingRule,
)
from coordinator.feedtokens.models import FeedToken
from coordinator.hotspots.models import Hotspot
from coordinator.meetings.models import (
    ActionItem,
    ActionItemCase,
    AgendaItem,
    Meeting,
    MeetingAttendance,
    MeetingDecision,
    MeetingSeries,
)
from coordinator.notifications.models import OutboxMessage, WebhookDelivery, WebhookSubscription
from coordinator.rosters.models import (
    PatrolFinding,
    PatrolLog,
    Roster,
    RosterShift,
    SquadNightPreference,
    SquadUnavailability,
)
from coordinator.scheduler.models import SchedulerHeartbeat, SchedulerRun
from coordinator.squads.models import DispatchUnit, Squad
from coordinator.worktime.models import CalendarOverride, CalendarYear

__all__ = [
    "ActionItem",
    "ActionItemCase",
    "AdminArea",
    "AgendaItem",
    "ApiToken",
    "BorderZone",
    "BorderZoneSetting",
    "BoundaryGeneration",
    "CalendarOverride",
    "CalendarYear",
    "Case",
    "CaseEvent",
    "CaseEventPurge",
    "CaseNumberCounter",
    "CasePartner",
    "CaseTransfer",
    "Category",
    "ContactAccessLog",
    "DispatchUnit",
    "FeedToken",
    "Hotspot",
    "Meeting",
    "MeetingAttendance",
    "MeetingDecision",
    "MeetingSeries",
    "OutboxMessage",
    "PatrolFinding",
    "PatrolLog",
    "Report",
    "Roster",
    "RosterShift",
    "RoutingRule",
    "SchedulerHeartbeat",
    "SchedulerRun",
    "SharedBorder",
    "Squad",
    "SquadNightPreference",
    "SquadUnavailability",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
]
