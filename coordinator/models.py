"""Import every domain's models so `Base.metadata` knows all tables (Alembic and tests rely on it)."""

from coordinator.auth.models import ApiToken, ContactAccessLog, User, WebSession
from coordinator.boundaries.models import (
    AdminArea,
    BorderZone,
    BorderZoneSetting,
    BoundaryGeneration,
    SharedBorder,
)
from coordinator.casemap.models import CaseMapCell
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
from coordinator.citizen.models import StatusLink
from coordinator.community.models import (
    Compound,
    CompoundManager,
    FilingEvent,
    Inspection,
    RenovationFiling,
    ReportFeedback,
    RewardEntry,
    RewardRule,
)
from coordinator.evidence.models import Evidence
from coordinator.feedtokens.models import FeedToken
from coordinator.field.models import (
    Alert,
    AlertClass,
    AlertReceipt,
    Device,
    DeviceNonce,
    DroneFlight,
    PatrolCheck,
    RealtimeWarning,
)
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
from coordinator.ratelimit import RateLimitCounter
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
    "Alert",
    "AlertClass",
    "AlertReceipt",
    "ApiToken",
    "BorderZone",
    "BorderZoneSetting",
    "BoundaryGeneration",
    "CalendarOverride",
    "CalendarYear",
    "Case",
    "CaseEvent",
    "CaseEventPurge",
    "CaseMapCell",
    "CaseNumberCounter",
    "CasePartner",
    "CaseTransfer",
    "Category",
    "Compound",
    "CompoundManager",
    "ContactAccessLog",
    "Device",
    "DeviceNonce",
    "DispatchUnit",
    "DroneFlight",
    "Evidence",
    "FeedToken",
    "FilingEvent",
    "Hotspot",
    "Inspection",
    "Meeting",
    "MeetingAttendance",
    "MeetingDecision",
    "MeetingSeries",
    "OutboxMessage",
    "PatrolCheck",
    "PatrolFinding",
    "PatrolLog",
    "RateLimitCounter",
    "RealtimeWarning",
    "RenovationFiling",
    "Report",
    "ReportFeedback",
    "RewardEntry",
    "RewardRule",
    "Roster",
    "RosterShift",
    "RoutingRule",
    "SchedulerHeartbeat",
    "SchedulerRun",
    "SharedBorder",
    "Squad",
    "SquadNightPreference",
    "SquadUnavailability",
    "StatusLink",
    "User",
    "WebSession",
    "WebhookDelivery",
    "WebhookSubscription",
]
