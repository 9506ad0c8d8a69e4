"""Alembic environment: one history for PostGIS and SpatiaLite.

The URL comes from `DATABASE_URL` (or from the caller through `config.attributes`), the engine from
`coordinator.db.make_engine` so SpatiaLite is loaded exactly as the app loads it. GeoAlchemy2's helpers
keep SpatiaLite's internal tables out of autogenerate and render spatial columns/indexes correctly.
"""

from __future__ import annotations

import logging.config
from typing import Any, Literal

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

import coordinator.models  # noqa: F401  (registers every table on Base.metadata)
from config import Settings
from coordinator.db import Base, UtcDateTime, make_engine
from coordinator.migrate import include_object

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging_config"):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our UtcDateTime as the plain column type it stores; GeoAlchemy2 renders the rest."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    result: str | Literal[False] = alembic_helpers.render_item(type_, obj, autogen_context)
    return result


def configure(connection: Connection) -> None:
    """Configure the migration context the same way for upgrades and for the model/migration check."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # SQLite runs DDL inside transactions too (coordinator.db issues BEGIN itself), so a failed
        # migration leaves nothing half-applied on either backend.
        transactional_ddl=True,
    )


def run_migrations_online() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.attributes.get("database_url") or Settings.from_env().database_url
    engine = make_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: spatial DDL differs per backend")
run_migrations_online()
