"""The settings the running app was built with, for code that runs inside it (views, CLI commands).

`create_app` reads `config.Settings` once and keeps them in the app; this module hands them out, so a
domain module asks for a setting without importing the app factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

from config import Settings

if TYPE_CHECKING:
    from coordinator.evidence.files import Limits
    from coordinator.evidence.storage import BlobStore

SETTINGS_KEY = "coordinator.settings"
EVIDENCE_STORE_KEY = "coordinator.evidence_store"


def init_settings(app: Flask, settings: Settings) -> None:
    """Keep `settings` in `app` (called once, by the app factory)."""
    app.extensions[SETTINGS_KEY] = settings


def get_settings(app: Flask | None = None) -> Settings:
    """The settings of `app`, by default the current app."""
    settings: Settings = (app or current_app).extensions[SETTINGS_KEY]
    return settings


def evidence_store(app: Flask | None = None) -> BlobStore:
    """The evidence blob store of `app` (default: the current app), built once from its settings."""
    from coordinator.evidence.storage import store_for

    app = app or current_app
    store: BlobStore | None = app.extensions.get(EVIDENCE_STORE_KEY)
    if store is None:
        store = app.extensions[EVIDENCE_STORE_KEY] = store_for(get_settings(app))
    return store


def evidence_limits(app: Flask | None = None) -> Limits:
    """The upload limits of `app`'s settings (size, pixels, thumbnail side)."""
    from coordinator.evidence.files import Limits

    settings = get_settings(app)
    return Limits(
        max_bytes=settings.evidence_max_bytes,
        max_pixels=settings.evidence_max_pixels,
        thumbnail_px=settings.evidence_thumbnail_px,
    )
