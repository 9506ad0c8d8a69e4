"""Run Alembic programmatically (used by `flask db …` and by the tests)."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy.engine import Connection

from config import PROJECT_ROOT
from coordinator.db import Base

# Tables the spatial extensions create for themselves; they are not ours to compare or drop.
# The scheduler's job store (APScheduler creates and owns it; see coordinator.scheduler).
APSCHEDULER_TABLE = "apscheduler_jobs"
SPATIAL_SYSTEM_TABLES = frozenset(
    {
        "SpatialIndex",
        "ElementaryGeometries",
        "KNN",
        "KNN2",
        "sql_statements_log",
        "data_licenses",
        # APScheduler's SQLAlchemyJobStore creates and owns its job table (coordinator/scheduler).
        "apscheduler_jobs",
        "spatial_ref_sys",
        "spatial_ref_sys_aux",
        "spatialite_history",
        "geometry_columns",
        "geometry_columns_auth",
        "geometry_columns_statistics",
        "geometry_columns_field_infos",
        "geometry_columns_time",
        "views_geometry_columns",
        "views_geometry_columns_auth",
        "views_geometry_columns_statistics",
        "views_geometry_columns_field_infos",
        "virts_geometry_columns",
        "virts_geometry_columns_auth",
        "virts_geometry_columns_statistics",
        "virts_geometry_columns_field_infos",
        "sqlite_sequence",
        "sqlite_stat1",
        "layer_statistics",
        "views_layer_statistics",
        "virts_layer_statistics",
        "vector_layers",
        "vector_layers_auth",
        "vector_layers_statistics",
        "vector_layers_field_infos",
        "rl2map_configurations",
        "SE_external_graphics",
        "SE_fonts",
        "SE_raster_styled_layers",
        "SE_raster_styles",
        "SE_vector_styled_layers",
        "SE_vector_styles",
        "ISO_metadata",
        "ISO_metadata_reference",
        "wms_getcapabilities",
        "wms_getmap",
        "wms_settings",
        "wms_ref_sys",
    }
)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic filter: skip the spatial extensions' own tables, then apply GeoAlchemy2's rules."""
    system = name is not None and (
        name in SPATIAL_SYSTEM_TABLES or name.startswith("idx_") or name == APSCHEDULER_TABLE
    )
    if type_ == "table" and reflected and compare_to is None and system:
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))  # type: ignore[no-untyped-call]


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic Config for this project, bound to a URL or an open connection."""
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if database_url is not None:
        cfg.attributes["database_url"] = database_url
    if connection is not None:
        cfg.attributes["connection"] = connection
        cfg.attributes["skip_logging_config"] = True
    return cfg


def upgrade(
    database_url: str | None = None, revision: str = "head", connection: Connection | None = None
) -> None:
    """Migrate the database to `revision`."""
    command.upgrade(alembic_config(database_url, connection), revision)


def downgrade(database_url: str | None, revision: str) -> None:
    """Migrate the database down to `revision`."""
    command.downgrade(alembic_config(database_url), revision)


def schema_diff(connection: Connection) -> list[Any]:
    """Differences between the models and the migrated database (empty when they agree)."""
    import coordinator.models  # noqa: F401

    ctx = MigrationContext.configure(
        connection,
        opts={
            "include_object": include_object,
            "compare_type": True,
            "target_metadata": Base.metadata,
        },
    )
    return list(compare_metadata(ctx, Base.metadata))
