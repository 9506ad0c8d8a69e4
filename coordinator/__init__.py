"""交界协同 — the Flask application (app factory `create_app`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask

from config import Settings
from config.logging import configure_logging
from coordinator.jsonutil import OrjsonProvider

__version__ = "0.1.0"


class CoordinatorFlask(Flask):
    """The app class: Flask with an orjson-backed JSON provider."""

    json_provider_class = OrjsonProvider


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """Build the app. `config` overrides settings read from the environment (tests pass a dict)."""
    settings = config if isinstance(config, Settings) else Settings.from_env().with_overrides(config or {})
    configure_logging(settings.log_level, settings.log_json)

    app = CoordinatorFlask(__name__, instance_relative_config=True)
    from coordinator.api import RowIdConverter, TextConverter

    # Before any route is added: `<id:…>` and the default `<name>` / `<string:name>` segments.
    app.url_map.converters.update(id=RowIdConverter, default=TextConverter, string=TextConverter)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        SESSION_COOKIE_NAME="jiaojie_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep GeoJSON "type" first
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese names stay readable
    from coordinator.settings import init_settings

    init_settings(app, settings)

    from coordinator.errors import register_error_handlers
    from coordinator.extensions import init_db

    init_db(app, settings)
    register_error_handlers(app)
    from coordinator import security

    security.init_app(app, settings)  # the size limit is the first before_request hook

    from coordinator import policy
    from coordinator.auth.views import bp as auth_bp
    from coordinator.boundaries.views import bp as boundaries_bp
    from coordinator.casemap.views import bp as casemap_bp
    from coordinator.cases.views import bp as cases_bp
    from coordinator.citizen.views import bp as citizen_bp
    from coordinator.community.views import bp as community_bp
    from coordinator.evidence.views import bp as evidence_bp
    from coordinator.field.views import bp as field_bp
    from coordinator.geolocation.services import LocatorCache
    from coordinator.geolocation.views import bp as geolocate_bp
    from coordinator.geolocation.views import prepare_locator
    from coordinator.health import bp as health_bp
    from coordinator.hotspots.views import bp as hotspots_bp
    from coordinator.meetings.views import bp as meetings_bp
    from coordinator.open311.views import init_app as init_open311
    from coordinator.openapi import bp as openapi_bp
    from coordinator.ops import metrics, requestid
    from coordinator.review.views import bp as review_bp
    from coordinator.rosters.views import bp as rosters_bp
    from coordinator.squads.views import bp as squads_bp

    # First: every later hook (and its log lines) runs under the request's id, and is timed.
    requestid.init_app(app, log_requests=settings.log_requests)
    metrics.init_app(app)
    app.before_request(prepare_locator)  # before authentication opens the request's transaction
    policy.init_app(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(boundaries_bp, url_prefix="/api/v1")
    app.register_blueprint(geolocate_bp, url_prefix="/api/v1")
    app.extensions["coordinator.locator_cache"] = LocatorCache(
        refresh_s=settings.locator_refresh_s, cell_deg=settings.locator_cell_deg
    )
    app.register_blueprint(auth_bp, url_prefix="/api/v1")
    app.register_blueprint(squads_bp, url_prefix="/api/v1")
    app.register_blueprint(cases_bp, url_prefix="/api/v1")
    app.register_blueprint(evidence_bp, url_prefix="/api/v1")
    app.register_blueprint(citizen_bp, url_prefix="/api/v1")
    app.register_blueprint(casemap_bp, url_prefix="/api/v1")
    app.register_blueprint(hotspots_bp, url_prefix="/api/v1")
    app.register_blueprint(rosters_bp, url_prefix="/api/v1")
    app.register_blueprint(review_bp, url_prefix="/api/v1")
    app.register_blueprint(meetings_bp, url_prefix="/api/v1")
    app.register_blueprint(field_bp, url_prefix="/api/v1")
    app.register_blueprint(community_bp, url_prefix="/api/v1")
    init_open311(app)
    from coordinator.ogc.views import init_app as init_ogc

    init_ogc(app)
    app.register_blueprint(openapi_bp)
    from coordinator.web import init_app as init_web

    init_web(app)  # the pages (HTML), their error pages and security headers
    from coordinator.httpcache import compress

    app.after_request(compress)

    from coordinator.cli import register_cli

    register_cli(app)
    return app
