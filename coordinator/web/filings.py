"""The renovation-filing pages (装修申报): the list of the caller's scope, the property manager's filing
form, and one filing with its trail, documents, inspections and the actions the caller may take.

Like every page they only read (through coordinator.community's services and presenters, under the
policy table's rules); the forms call the community JSON API from static/web/filings.js with the
session's CSRF token, so the API's checks (who may act on which filing, the documents' type and size
limits) are the only rules."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from coordinator.access_rules import RULES
from coordinator.community import case_filings, documents, renovation
from coordinator.community.models import Inspection, RenovationFiling
from coordinator.community.presenters import filing_detail, filing_summary
from coordinator.community.schemas import FilingListQuery
from coordinator.errors import ValidationFailed
from coordinator.evidence.presenters import evidence_list
from coordinator.evidence.services import list_evidence
from coordinator.extensions import commit_request_session, db_session, writes_on_read
from coordinator.permissions import can_inspect_filing
from coordinator.policy import current_user
from coordinator.privacy import mask_name, mask_phone
from coordinator.web import bp

FILINGS_API = "/api/v1/renovation-filings"


def state_labels() -> dict[str, str]:
    """Filing states in the page's language."""
    return {
        "submitted": _("Submitted, awaiting review"),
        "returned": _("Returned"),
        "resubmitted": _("Resubmitted"),
        "accepted": _("Accepted"),
        "in_works": _("In works"),
        "inspected": _("Inspected"),
        "closed": _("Finished"),
    }


def filing_action_labels() -> dict[str, str]:
    """Filing actions and trail entries in the page's language."""
    return {
        "submitted": _("Filed"),
        "accept": _("Accept"),
        "return": _("Return"),
        "resubmit": _("Resubmit"),
        "start": _("Works started"),
        "close": _("Close filing"),
        "inspection_pass": _("Inspection passed"),
        "inspection_fail": _("Inspection failed"),
    }


def inspection_labels() -> dict[str, str]:
    """Inspection kinds, results and violations in the page's language."""
    return {
        "property_patrol": _("Property inspection"),
        "spot_check": _("Enforcement spot check"),
        "completion": _("Completion inspection"),
        "pass": _("Passed"),
        "fail": _("Failed"),
        "illegal_renovation": _("Illegal renovation"),
        "illegal_construction": _("Illegal construction"),
    }


def flat_text(flat: dict[str, str]) -> str:
    """A flat in the page's language: 3号楼2单元501室."""
    if flat.get("unit"):
        return str(_("Building %(building)s, unit %(unit)s, room %(room)s", **flat))
    return str(_("Building %(building)s, room %(room)s", building=flat["building"], room=flat["room"]))


def _list_query() -> FilingListQuery:
    """The list's filters from the query string (an empty select is no filter); 422 when invalid."""
    raw = {key: value for key, value in request.args.items() if value.strip()}
    try:
        return FilingListQuery.model_validate(raw)
    except ValueError as exc:
        raise ValidationFailed("invalid filter") from exc


def _owner_masked(filing: RenovationFiling) -> str:
    """The owner as a list row shows it to everyone: masked (the full contact, audited, is on the
    filing's page for those who may read it)."""
    return f"{mask_name(filing.owner_name)} {mask_phone(filing.owner_phone)}".strip()


@bp.get("/filings")
def filings_page() -> str:
    """The filings of the caller's scope (a property manager: its compounds; a dispatcher: its district;
    a squad: its town), newest first, filtered by state and compound."""
    session = db_session()
    user = current_user()
    query = _list_query()
    rows = renovation.list_filings(session, user, state=query.state, compound_id=query.compound_id)
    return render_template(
        "web/filings.html",
        filings=[{**filing_summary(f), "owner": _owner_masked(f)} for f in rows],
        compounds=renovation.list_compounds(session, user),
        state=query.state or "",
        compound_id=query.compound_id,
        filing_states=state_labels(),
        may_file=user.role == "property_manager",
        flat_text=flat_text,
    )


@bp.get("/filings/new")
def new_filing_page() -> str:
    """The property manager's filing form: one of its compounds, the flat, owner, contractor, dates,
    waste-clearance plan and documents. It posts to the filings API, then the documents to the
    documents API (a refused file shows the API's message; the filing stays filed)."""
    compounds = renovation.list_compounds(db_session(), current_user())
    return render_template("web/filing_new.html", compounds=compounds, filings_api=FILINGS_API)


def _photos(session: Session, inspection: Inspection, role: str) -> list[dict[str, Any]]:
    return evidence_list(session, list_evidence(session, documents.INSPECTION_SUBJECT, inspection.id), role)


@bp.get("/filings/<id:filing_id>")
@writes_on_read  # the audit row of an unmasked owner-contact read, as in the API
def filing_page(filing_id: int) -> str:
    """One filing: facts, owner (as the privacy rules show it to the caller), trail, documents,
    inspections with results and photos (a failed one: the case it opened), the caller's actions."""
    session = db_session()
    user = current_user()
    filing = renovation.get_filing(session, filing_id, user)
    session.refresh(filing, ["events", "inspections"])
    docs = documents.filing_documents(session, filing)
    detail = filing_detail(session, filing, user, documents=[d.id for d in docs])
    compound = filing.compound
    managers = renovation.manager_ids(compound)
    numbers = {i.case_number for i in filing.inspections if i.case_number}
    cases = case_filings.case_ids(session, numbers) if RULES["web.case_page"].allows(user.role) else {}
    inspections = [
        {
            **row,
            "photo_files": _photos(session, inspection, user.role),
            "case_id": cases.get(inspection.case_number or ""),
            "may_add_photos": can_inspect_filing(user, compound, managers, inspection.kind),
        }
        for row, inspection in zip(detail["inspections"], filing.inspections, strict=True)
    ]
    page = render_template(
        "web/filing.html",
        filing=detail,
        compound=compound,
        inspections=inspections,
        documents=evidence_list(session, docs, user.role),
        may_upload=documents.may_add_documents(user, filing),
        inspection_kinds=renovation.allowed_inspection_kinds(user, filing),
        filings_api=FILINGS_API,
        filing_states=state_labels(),
        filing_actions=filing_action_labels(),
        inspection_labels=inspection_labels(),
        flat_text=flat_text,
    )
    commit_request_session()  # the contact-read audit rows
    return page
