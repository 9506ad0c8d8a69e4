"""The web app: server-rendered pages (Jinja, Flask-Babel zh-CN/en) over the same services and policy as
the JSON API. Pages read through the services; every change a page makes goes through the JSON API
(fetch with the session's CSRF token), so there is one set of rules — the API's.

- `views.py`: the shared page context and the pages of daily work (login, start page, squad inbox, case
  page, map, dispatcher desk, citizen report and status, 我的举报, the patroller's page).
- `liaison.py`: the committee dashboard, the liaison meetings and the joint night rosters.
- `filings.py`: the renovation-filing pages (list, the property manager's form, one filing).
- `compounds.py`: the compounds page (小区登记: a dispatcher's or admin's compounds; register, edit).
- `alerts.py`: the alert review queue and the device registry (camera and drone alerts).
- `rewards.py`: the admins' rewards page (totals, flagged bursts, rules, redemption).
- `desk.py`, `dashboard.py`, `citizen_pages.py`: what those pages show, as plain functions over a Session.
- `i18n.py`: the locale (zh_CN by default, English by the `lang` cookie) and the catalogues.
- `security.py`: security headers and the Content-Security-Policy of HTML answers.
- `basemap.py`: the optional, configured basemap (WGS-84/CGCS2000 only; GCJ-02 refused).
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)

PAGE_PREFIXES_KEY = "coordinator.web.page_prefixes"


def page_prefixes(app: Flask) -> tuple[str, ...]:
    """The fixed start of every page route of the blueprint (`/cases/<id>` gives `/cases/`; `/` itself
    is matched exactly elsewhere), read off the URL map so that a new page cannot be left out: its
    errors are HTML pages (401 the login form), not the API's JSON error shape, and it gets the pages'
    security headers."""
    prefixes = {
        rule.rule.split("<", 1)[0]
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(f"{bp.name}.") and rule.endpoint != f"{bp.name}.static"
    }
    return tuple(sorted(prefixes - {"/"}))


def init_app(app: Flask) -> None:
    """Mount the pages, the locale, the HTML error pages and the security headers."""
    from coordinator.errors import register_error_renderer
    from coordinator.settings import get_settings
    from coordinator.web import (  # the page modules register their routes
        alerts,  # noqa: F401
        compounds,  # noqa: F401
        filings,  # noqa: F401
        i18n,
        liaison,  # noqa: F401
        rewards,  # noqa: F401
        security,
        views,
    )
    from coordinator.web.basemap import configured_basemap

    with app.app_context():
        app.extensions["coordinator.basemap"] = configured_basemap(get_settings())
    i18n.init_app(app)
    app.register_blueprint(bp)
    app.extensions[PAGE_PREFIXES_KEY] = page_prefixes(app)
    for prefix in app.extensions[PAGE_PREFIXES_KEY]:
        register_error_renderer(app, prefix, views.render_error_page)
    app.after_request(security.add_security_headers)
    app.context_processor(views.page_context)
