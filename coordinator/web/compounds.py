"""The compounds page (小区登记): the compounds of a dispatcher's district (all for an admin or the
alliance desk) with their district, town and property managers, and one form to register a compound or
edit one — name, address, a point put on a Leaflet map or typed as longitude/latitude, the managers —
or retire one.

Like every page it only reads (coordinator.community.renovation under the policy table's rules); the
form calls the compounds API from static/web/compounds.js (`POST /api/v1/compounds`,
`PATCH /api/v1/compounds/{id}`, `POST /api/v1/compounds/{id}/retire`) with the session's CSRF token, so
the API's checks (the caller's district, a point inside the member districts, property-manager accounts
only, no open filing when retiring) are the only rules."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import gettext as _

from coordinator.auth.services import list_users
from coordinator.boundaries import services as boundaries
from coordinator.community import renovation
from coordinator.community.presenters import compound_out
from coordinator.extensions import db_session
from coordinator.policy import current_user
from coordinator.web import bp

COMPOUNDS_API = "/api/v1/compounds"


@bp.get("/compounds")
def compounds_page() -> str:
    """The caller's compounds and the registration / edit form."""
    session = db_session()
    compounds = [compound_out(session, c) for c in renovation.list_compounds(session, current_user())]
    codes = {c[k] for c in compounds for k in ("district", "town") if c[k]}
    names = (
        {a.code: a.name_zh for a in boundaries.current_areas(session, codes=sorted(codes))} if codes else {}
    )
    managers = [u for u in list_users(session, role="property_manager") if u.active]
    return render_template(
        "web/compounds.html",
        compounds=compounds,
        area_names=names,
        managers=managers,
        compounds_api=COMPOUNDS_API,
        texts=page_texts(),
    )


def page_texts() -> dict[str, Any]:
    """The script's words: the form's two modes, its outcomes, and the API's refusals it explains."""
    return {
        "new": _("Register a compound"),
        "edit": _("Edit compound"),
        "created": _("Compound registered"),
        "saved": _("Compound saved"),
        "no_point": _("Put the compound on the map, or type its longitude and latitude"),
        "outside_alliance": _("That point is not in a member district"),
        "not_a_property_manager": _("Only property-manager accounts can manage a compound"),
        "retire_confirm": _(
            "Retire compound %(name)s? It leaves the list and takes no new filing; "
            "its filings stay readable.",
            name="{name}",
        ),
        "retired": _("Compound retired"),
        "compound_has_open_filings": _(
            "It still has open filings (submitted, accepted or in works): decide or close them first"
        ),
        "forbidden": _(
            "That point is in another district: only its dispatcher or an admin can put the compound there"
        ),
    }
