"""The baseline of bench/intake.py: the least an authenticated report endpoint has to do, as a Flask app.

    DATABASE_URL=postgresql+psycopg://… gunicorn -c bench/baseline_gunicorn.conf.py --chdir bench \
        baseline_app:app

One endpoint, `POST /api/v1/reports`, that
- checks the bearer token the way the service does (coordinator/auth/services.py `authenticate_token`):
  the `jj_` prefix, the SHA-256 of the token looked up in the service's `api_token` joined to
  `user_account` (not revoked, user active) in one Core statement, `expires_at` checked, and
  `last_used_at` stamped when older than five minutes;
- parses the JSON body and inserts one row into `bench_baseline_report` (its own table: a few columns,
  the body as JSON, a timestamp; primary key only);
- in one committed transaction, with SQLAlchemy Core, and answers 201 with the new row's id.

It runs against the service's database (the token is a service token), but imports nothing of the
service: the tables it reads are described here, so it runs next to any version of the service. It is
not part of the service; only the bench starts it.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    insert,
    select,
    update,
)

TOKEN_PREFIX = "jj_"
LAST_USED_RESOLUTION = timedelta(minutes=5)  # as the service: a read stays a read most of the time

metadata = MetaData()
# The columns of the service's tables that the token check reads (the service owns these tables).
api_token = Table(
    "api_token",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer),
    Column("token_hash", String(64)),
    Column("prefix", String(16)),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
)
user_account = Table(
    "user_account",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64)),
    Column("role", String(20)),
    Column("active", Boolean),
)
# The baseline's own table (created by the bench with `create_table`).
baseline_report = Table(
    "bench_baseline_report",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("category", String(16), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("body", JSON, nullable=False),
    Column("idempotency_key", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

AUTHENTICATE = (
    select(
        api_token.c.id,
        api_token.c.expires_at,
        api_token.c.last_used_at,
        user_account.c.id.label("user_id"),
        user_account.c.username,
        user_account.c.role,
    )
    .join(user_account, user_account.c.id == api_token.c.user_id)
    .where(
        api_token.c.token_hash == bindparam("token_hash"),
        api_token.c.revoked_at.is_(None),
        user_account.c.active.is_(True),
    )
)
INSERT = insert(baseline_report).returning(baseline_report.c.id)


def create_table(url: str) -> None:
    """Create `bench_baseline_report` in the database at `url` (which the service has migrated)."""
    engine = create_engine(url)
    metadata.create_all(engine, tables=[baseline_report])
    engine.dispose()


def error(status: int, code: str, message: str) -> Response:
    """The service's error shape."""
    response = jsonify({"error": {"code": code, "message": message, "details": None}})
    response.status_code = status
    return response


def create_app() -> Flask:
    """The app; its engine is created in each worker on first use (gunicorn forks without --preload)."""
    app = Flask(__name__)
    engine: Engine | None = None

    @app.post("/api/v1/reports")
    def report() -> Response:
        nonlocal engine
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX):
            return error(401, "unauthorized", "invalid, expired or revoked API token")
        body: Any = request.get_json(silent=True)
        try:
            category, lon, lat = str(body["category"]), float(body["lon"]), float(body["lat"])
        except (TypeError, KeyError, ValueError):
            return error(400, "bad_request", "category, lon and lat are required")
        if engine is None:
            engine = create_engine(os.environ["DATABASE_URL"])
        now = datetime.now(UTC)
        token_hash = hashlib.sha256(token.encode("utf-8")).hexdigest()
        with engine.begin() as conn:  # one transaction: the token check, the stamp, the row; commit
            row = conn.execute(AUTHENTICATE, {"token_hash": token_hash}).first()
            if row is None or now >= row.expires_at:
                return error(401, "unauthorized", "invalid, expired or revoked API token")
            if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
                conn.execute(update(api_token).where(api_token.c.id == row.id).values(last_used_at=now))
            new_id = conn.execute(
                INSERT,
                {
                    "user_id": row.user_id,
                    "category": category,
                    "lon": lon,
                    "lat": lat,
                    "body": body,
                    "idempotency_key": request.headers.get("Idempotency-Key"),
                    "created_at": now,
                },
            ).scalar_one()
        response = jsonify({"id": new_id})
        response.status_code = 201
        return response

    return app


app = create_app()
