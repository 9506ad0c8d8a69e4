"""Turn cases into API payloads (JSON and GeoJSON), applying the personal-data rules per caller."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.boundaries.services import current_areas
from coordinator.cases import lifecycle
from coordinator.cases.models import Case, CaseTransfer, Category
from coordinator.cases.queries import is_overdue, squads_by_id
from coordinator.cases.workflow import pending_transfers
from coordinator.privacy import Contact, free_text_for, show_contact
from coordinator.squads.models import DispatchUnit, Squad
from coordinator.worktime import SHANGHAI


def _local(value: datetime | None) -> str | None:
    return value.astimezone(SHANGHAI).isoformat() if value else None


def case_districts(case: Case) -> set[str | None]:
    """The districts a case belongs to: its own and, in a border zone, the pair's."""
    return {case.district_code, case.border_pair_a, case.border_pair_b} - {None}


class CasePresenter:
    """Serializes many cases with a handful of queries (squads, names, users looked up once)."""

    def __init__(
        self,
        session: Session,
        cases: Sequence[Case],
        *,
        now: datetime,
        viewer: User | None = None,
        renovation_nearby_m: float = 300.0,
    ) -> None:
        self.session = session
        self.now = now
        self.viewer = viewer
        self.renovation_nearby_m = renovation_nearby_m
        self.transfers = pending_transfers(session, [c.id for c in cases])
        squad_ids = (
            {c.lead_squad_id for c in cases if c.lead_squad_id}
            | {p.squad_id for c in cases for p in c.partners}
            | {t.to_squad_id for t in self.transfers.values()}
        )
        self.squads: dict[int, Squad] = squads_by_id(session, squad_ids)
        self.districts = {a.code: a.name_zh for a in current_areas(session, level="district")}
        self.categories = {c.code: c for c in session.scalars(select(Category))}
        user_ids = {c.claimed_by_id for c in cases if c.claimed_by_id}
        self.users = (
            {u.id: u.username for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
            if user_ids
            else {}
        )
        unit_ids = {c.queue_unit_id for c in cases if c.queue_unit_id} | {
            c.escalated_to_unit_id for c in cases if c.escalated_to_unit_id
        }
        self.units = (
            {u.id: u for u in session.scalars(select(DispatchUnit).where(DispatchUnit.id.in_(unit_ids)))}
            if unit_ids
            else {}
        )

    def _squad(self, squad_id: int | None) -> dict[str, Any] | None:
        squad = self.squads.get(squad_id) if squad_id else None
        if squad is None:
            return None
        return {"code": squad.code, "name": squad.name_zh, "district": squad.district_code}

    def summary(self, case: Case) -> dict[str, Any]:
        """The case fields every listing shows."""
        category = self.categories.get(case.category_code)
        unit = self.units.get(case.queue_unit_id) if case.queue_unit_id else None
        escalated_to = self.units.get(case.escalated_to_unit_id) if case.escalated_to_unit_id else None
        transfer = self.transfers.get(case.id)
        return {
            "id": case.id,
            "number": case.number,
            "status": case.status,
            "category": case.category_code,
            "category_name": category.name_zh if category else case.category_code,
            "district": None
            if case.district_code is None
            else {
                "code": case.district_code,
                "name": self.districts.get(case.district_code, case.district_code),
            },
            "in_border_zone": case.in_border_zone,
            "border_pair": [case.border_pair_a, case.border_pair_b] if case.border_pair_a else None,
            "lead_squad": self._squad(case.lead_squad_id),
            "queue": None if unit is None else {"code": unit.code, "name": unit.name_zh},
            "partner_squads": [s for s in (self._squad(p.squad_id) for p in case.partners) if s],
            "claimed_by": self.users.get(case.claimed_by_id) if case.claimed_by_id else None,
            "report_count": case.report_count,
            "lon": case.lon,
            "lat": case.lat,
            "created_at": _local(case.created_at),
            "claim_by": _local(case.claim_by),
            "resolve_by": _local(case.resolve_by),
            "overdue": is_overdue(case, self.now),
            "escalated": case.escalated_at is not None,
            "escalated_at": _local(case.escalated_at),
            "escalated_to": None
            if escalated_to is None
            else {"code": escalated_to.code, "name": escalated_to.name_zh},
            "overdue_at": _local(case.overdue_at),
            "pending_transfer": None if transfer is None else self.transfer(transfer),
            "allowed_actions": []
            if self.viewer is None
            else lifecycle.allowed_actions(case, self.viewer, transfer),
            "synthetic": case.synthetic,
        }

    def transfer(self, transfer: CaseTransfer) -> dict[str, Any]:
        """A transfer request."""
        return {
            "id": transfer.id,
            "state": transfer.state,
            "to_squad": self._squad(transfer.to_squad_id),
            "reason": transfer.reason,
            "requested_at": _local(transfer.requested_at),
        }

    def detail(self, case: Case, viewer: User) -> dict[str, Any]:
        """The case with routing, reports (contact per the viewer's role) and its audit trail."""
        reports = []
        districts = case_districts(case)
        for r in case.reports:
            contact = None
            if r.reporter_name or r.reporter_phone:
                contact = show_contact(
                    self.session,
                    viewer,
                    Contact(name=r.reporter_name, phone=r.reporter_phone),
                    subject_type="report",
                    subject_id=r.id,
                    purpose=f"case {case.number}",
                    districts=districts,
                )
            reports.append(
                {
                    "id": r.id,
                    "source": r.source,
                    "description": free_text_for(
                        self.session,
                        viewer,
                        r.description,
                        districts=districts,
                        subject_id=r.id,
                        purpose=f"case {case.number}",
                    ),
                    "observed_at": _local(r.observed_at),
                    "received_at": _local(r.received_at),
                    "lon": r.lon,
                    "lat": r.lat,
                    "input": {"lon": r.input_lon, "lat": r.input_lat, "crs": r.input_crs},
                    "photos": list(r.photos or []),
                    "reporter": contact,
                    "merged": r.merged,
                    "flat": r.flat,
                }
            )
        events = [
            {
                "id": e.id,
                "at": _local(e.at),
                "actor": e.actor,
                "kind": e.kind,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "reason": e.reason,
                "payload": e.payload,
            }
            for e in case.events
        ]
        return {
            **self.summary(case),
            "routing": case.routing,
            "reports": reports,
            "events": events,
            "action_items": self.action_items(case),
            "renovation_filings": self.renovation_filings(case),
            "evidence": self.evidence(case, viewer),
        }

    def renovation_filings(self, case: Case) -> list[dict[str, Any]]:
        """The renovation filings the case concerns (no owner contact: the filing shows it per role)."""
        # Imported here: the community domain builds on cases, not the other way round.
        from coordinator.community.case_filings import filings_for_case

        if self.viewer is not None and self.viewer.role == "committee":
            return []  # the committee sees counts, not people's flats
        out = []
        for link in filings_for_case(self.session, case, nearby_m=self.renovation_nearby_m):
            f = link.filing
            out.append(
                {
                    "id": f.id,
                    "number": f.number,
                    "state": f.state,
                    "compound": f.compound.name,
                    "address": f.compound.address,
                    "flat": {"building": f.building, "unit": f.unit, "room": f.room},
                    "planned_start": f.planned_start.isoformat(),
                    "planned_end": f.planned_end.isoformat(),
                    "contractor": f.contractor_name,
                    "waste_plan": {
                        "hauler": f.waste_hauler,
                        "schedule": f.waste_schedule,
                        "destination": f.waste_destination,
                    },
                    "distance_m": link.distance_m,
                    "reason": link.reason,
                }
            )
        return out

    def evidence(self, case: Case, viewer: User) -> list[dict[str, Any]]:
        """The case's photos and documents: its squads' before/after photos, its reports' photos."""
        # Imported here: evidence attaches to cases, not the other way round.
        from coordinator.evidence.presenters import evidence_list
        from coordinator.evidence.services import list_evidence_of
        from coordinator.evidence.views import case_subjects

        rows = list_evidence_of(self.session, case_subjects(case.id, [r.id for r in case.reports]))
        return evidence_list(self.session, rows, viewer.role)

    def action_items(self, case: Case) -> list[dict[str, Any]]:
        """The open liaison-meeting action items linked to the case."""
        # Imported here: meetings build on cases (agendas list cases), not the other way round.
        from coordinator.meetings.actions import open_action_items_for_case
        from coordinator.meetings.agenda import owner_label
        from coordinator.meetings.models import Meeting

        today = self.now.astimezone(SHANGHAI).date()
        out = []
        for item in open_action_items_for_case(self.session, case.id):
            meeting = self.session.get_one(Meeting, item.meeting_id)
            out.append(
                {
                    "id": item.id,
                    "title": item.title,
                    "due_date": item.due_date,
                    "overdue": item.due_date < today,
                    "owner": owner_label(self.session, item, self.districts),
                    "meeting_id": meeting.id,
                    "meeting_title": meeting.title,
                }
            )
        return out

    def feature(self, case: Case) -> dict[str, Any]:
        """The case as a GeoJSON Point feature."""
        return {
            "type": "Feature",
            "id": case.id,
            "geometry": {"type": "Point", "coordinates": [case.lon, case.lat]},
            "properties": self.summary(case),
        }
