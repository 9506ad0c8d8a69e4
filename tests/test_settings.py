"""Settings come from the environment with typed defaults."""

from __future__ import annotations

import pytest

from config import Settings


def test_defaults_use_embedded_spatialite_under_instance() -> None:
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("instance/coordinator.db")
    assert settings.border_zone_width_m == 500.0


def test_environment_values_are_typed() -> None:
    settings = Settings.from_env(
        {"BORDER_ZONE_WIDTH_M": "300", "LOG_JSON": "true", "DATABASE_URL": "postgresql://x/y"}
    )
    assert settings.border_zone_width_m == 300.0 and settings.log_json is True
    assert settings.database_url == "postgresql://x/y"


def test_bad_values_and_unknown_overrides_are_errors() -> None:
    with pytest.raises(ValueError, match="BORDER_SNAP_M"):
        Settings.from_env({"BORDER_SNAP_M": "wide"})
    with pytest.raises(ValueError, match="unknown setting"):
        Settings().with_overrides({"databse_url": "typo"})
