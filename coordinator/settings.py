"""The settings the running app was built with, for code that runs inside it (views, CLI commands).

`create_app` reads `config.Settings` once and keeps them in the app; this module hands them out, so a
domain module asks for a setting without importing the app factory.
"""

from __future__ import annotations

from flask import Flask, current_app

from config import Settings

SETTINGS_KEY = "coordinator.settings"


def init_settings(app: Flask, settings: Settings) -> None:
    """Keep `settings` in `app` (called once, by the app factory)."""
    app.extensions[SETTINGS_KEY] = settings


def get_settings(app: Flask | None = None) -> Settings:
    """The settings of `app`, by default the current app."""
    settings: Settings = (app or current_app).extensions[SETTINGS_KEY]
    return settings
