"""The web app: server-rendered pages (Jinja, Flask-Babel zh-CN/en) over the same services and policy as
the JSON API. Pages read through the services; every change a page makes goes through the JSON API
(fetch with the session's CSRF token), so there is one set of rules — the API's.

- `views.py`: the pages (login, map, squad inbox, case page, dispatcher desk, citizen report and status).
- `filings.py`: the renovation-filing pages (list, the property manager's form, one filing).
- `alerts.py`: the alert review queue and the device registry (camera and drone alerts).
- `i18n.py`: the locale (zh_CN by default, English by the `lang` cookie) and the catalogues.
- `security.py`: security headers and the Content-Security-Policy of HTML answers.
- `rewards.py`: the admins' rewards page (totals, flagged bursts, rules, redemption).
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

# Path prefixes of the pages: their errors are HTML pages, not the API's JSON error shape.
PAGE_PREFIXES = (
    "/login",
    "/map",
    "/inbox",
    "/cases/",
    "/desk",
    "/report",
    "/s/",
    "/lang/",
    "/rewards",
    "/filings",
    "/alerts",
    "/devices",
)


def init_app(app: Flask) -> None:
    """Mount the pages, the locale, the HTML error pages and the security headers."""
    from coordinator.errors import register_error_renderer
    from coordinator.settings import get_settings
    from coordinator.web import (  # views, alerts, filings and rewards register their routes
        alerts,  # noqa: F401
        filings,  # noqa: F401
        i18n,
        rewards,  # noqa: F401
        security,
        views,
    )
    from coordinator.web.basemap import configured_basemap

    with app.app_context():
        app.extensions["coordinator.basemap"] = configured_basemap(get_settings())
    i18n.init_app(app)
    app.register_blueprint(bp)
    for prefix in PAGE_PREFIXES:
        register_error_renderer(app, prefix, views.render_error_page)
    app.after_request(security.add_security_headers)
    app.context_processor(views.page_context)
