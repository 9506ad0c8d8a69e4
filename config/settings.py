"""Typed settings read from the environment.

Every knob has a default that works on a laptop (`make run`): an embedded SpatiaLite file under
`instance/`. Production points `DATABASE_URL` at PostgreSQL + PostGIS.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"


def instance_secret_key(directory: Path = INSTANCE_DIR) -> str:
    """A secret key kept in `instance/secret_key` (created 0600 on first use).

    Without SECRET_KEY in the environment every process would otherwise draw its own random key, and a
    browser session signed by one gunicorn worker would be rejected by the next one.
    """
    path = directory / "secret_key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        directory.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            return path.read_text(encoding="ascii").strip()
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key + "\n")
        return key


def default_database_url() -> str:
    """The embedded default: a SpatiaLite file under `instance/`."""
    return f"sqlite:///{INSTANCE_DIR / 'coordinator.db'}"


@dataclass(frozen=True)
class Settings:
    """Application settings. Build with `Settings.from_env()`; override per test with `with_overrides`."""

    database_url: str = field(default_factory=default_database_url)
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    log_level: str = "INFO"
    log_json: bool = False
    # Border geometry: gaps/slivers narrower than this between neighbouring polygons still count as a
    # shared border (高德 polygons of neighbours do not share vertices exactly).
    border_snap_m: float = 20.0
    # Default width of a 交界地带 (border zone) on each side of a shared border.
    border_zone_width_m: float = 500.0
    # How often a process checks whether the stored boundary version changed (locator rebuild).
    locator_refresh_s: float = 10.0
    # Cell size of the locator's lookup grid (degrees; 0.002° ≈ 200 m).
    locator_cell_deg: float = 0.002
    # API tokens expire after this many days (a new one is issued with `flask users token`).
    token_ttl_days: int = 90
    # Browser sessions (web UI) last this long after login.
    session_hours: int = 12
    # Login throttle: after this many wrong passwords for one username within the window, that
    # username must wait until the oldest of them leaves the window (429 with Retry-After).
    login_max_failures: int = 5
    login_window_minutes: int = 15
    # Send the session cookie over HTTPS only; turn on behind TLS in production.
    session_cookie_secure: bool = False
    # Joint night rosters: the solver's time limit and worker threads (CP-SAT), the day and hour
    # (Asia/Shanghai) the scheduler drafts next week's roster, and the hour it reminds the two squads
    # of a patrol that night (the afternoon before it).
    roster_time_limit_s: float = 20.0
    roster_workers: int = 2
    roster_draft_day: str = "thu"
    roster_draft_hour: int = 10
    roster_reminder_hour: int = 15
    # Operations: one access-log line per request (JSON with LOG_JSON, with its request id).
    log_requests: bool = True
    # `/metrics` answers only `Authorization: Bearer <METRICS_TOKEN>` when set (else: keep it off the
    # public network — see docs/operations.md).
    metrics_token: str = ""
    # Scheduler processes write a heartbeat this often; `/readyz` calls the leader's stale after
    # `scheduler_stale_s` (and does not look at it at all with READYZ_REQUIRES_SCHEDULER=false).
    scheduler_heartbeat_s: float = 5.0
    scheduler_stale_s: float = 60.0
    readyz_requires_scheduler: bool = True
    # A standby scheduler tries to take the leader lock this often (takeover time, docs/operations.md).
    scheduler_standby_retry_s: float = 2.0
    testing: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from environment variables (`DATABASE_URL`, `SECRET_KEY`, `LOG_LEVEL`, …)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(f.name, raw, f.type)
        if "secret_key" not in values:
            values["secret_key"] = instance_secret_key()
        return cls(**values)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """A copy with the given fields replaced; unknown keys are an error, not silently ignored."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **dict(overrides))


def _coerce(name: str, raw: str, type_name: Any) -> Any:
    type_str = str(type_name)
    try:
        if type_str == "bool":
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if type_str == "float":
            return float(raw)
        if type_str == "int":
            return int(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name.upper()}={raw!r} is not a valid {type_str}") from exc
    return raw
