"""The database layer: pooled connections that died while idle are replaced, and a connection lost
during a request answers 503."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from coordinator.db import make_engine
from coordinator.dialects import install_idle_ping


def test_a_pooled_connection_that_died_while_idle_is_replaced_before_use(database_url: str) -> None:
    engine = make_engine(database_url, idle_ping_s=0.0)
    if engine.dialect.name == "sqlite":  # installed for PostgreSQL only; the mechanism is the same
        install_idle_ping(engine, 0.0)
    connects: list[Any] = []
    event.listen(engine, "connect", lambda dbapi_connection, _record: connects.append(dbapi_connection))
    try:
        with engine.connect() as conn:
            pid = (
                conn.execute(text("SELECT pg_backend_pid()")).scalar()
                if conn.dialect.name != "sqlite"
                else None
            )
        time.sleep(0.01)
        with engine.connect() as conn:  # idle > 0 s: pinged, alive, reused
            assert conn.execute(text("SELECT 1")).scalar() == 1
        assert len(connects) == 1
        # The connection dies in the pool (server restart, idle timeout of a firewall …).
        if pid is not None:
            other = make_engine(database_url)
            with other.connect() as killer:
                assert killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
            other.dispose()
        else:
            connects[0].close()
        time.sleep(0.05)
        with engine.connect() as conn:  # the failed ping made the pool open a fresh connection
            assert conn.execute(text("SELECT 1")).scalar() == 1
        assert len(connects) == 2
    finally:
        engine.dispose()


def test_a_connection_lost_during_a_request_answers_503_with_retry_after(
    app: Flask, client: FlaskClient
) -> None:
    def lose_connection() -> None:
        raise DBAPIError(
            "SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True
        )

    app.before_request_funcs.setdefault(None, []).insert(0, lose_connection)
    response = client.get("/healthz")  # a route that uses the database (and documents 503)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["error"]["code"] == "database_unavailable"
