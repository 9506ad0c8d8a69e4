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
    # Field devices (coordinator/field): cameras and drones sign each request with their own secret
    # (HMAC-SHA256); a timestamp further than this from the server's clock is refused (stale).
    device_clock_skew_s: int = 300
    # The key that encrypts device secrets at rest (any string; a Fernet key is derived from it). Empty:
    # derived from SECRET_KEY — then changing SECRET_KEY means issuing every device a new secret.
    device_secret_key: str = ""
    # Alerts: repeats of one device's detections of one class within this window (and radius) fold
    # into one alert with a count; a device sending more than `device_alert_limit` alerts in
    # `device_alert_window_s` is throttled for `device_throttle_s` and the dispatcher is told.
    alert_storm_window_s: int = 300
    alert_storm_radius_m: float = 200.0
    device_alert_limit: int = 240
    device_alert_window_s: int = 60
    device_throttle_s: int = 300
    # A frame's largest size (bytes; it is kept by the evidence store, EVIDENCE_* settings). The whole
    # request is also under MAX_REQUEST_BYTES.
    alert_frame_max_bytes: int = 1_000_000
    alert_batch_max: int = 50
    # Night (Asia/Shanghai hours) for the real-time warning: from night_start_hour to night_end_hour.
    night_start_hour: int = 20
    night_end_hour: int = 6
    # Where people open the service (map links in notifications).
    public_base_url: str = "http://127.0.0.1:5000"
    # Reporters (coordinator/community): how many days after a resolution its reporters may rate or
    # dispute it; renovation-waste cases list the active filings of compounds within
    # `renovation_nearby_m` of the case. (Reward rules, caps and burst thresholds are table rows.)
    feedback_window_days: int = 7
    renovation_nearby_m: float = 300.0
    # Web map basemap (optional; coordinator/web/basemap.py, docs/web.md): an XYZ/WMTS tile URL template
    # in WGS-84/CGCS2000 coordinates, e.g. 天地图 `vec_w` with `{tk}` for the key, an optional labels layer
    # (天地图 `cva_w`), the key, the attribution shown on the map. GCJ-02 sources (高德, 腾讯) and Baidu's
    # BD-09 are refused at start-up: they would misplace our WGS-84 data by ~500 m. Empty: no basemap,
    # the polygons on a plain background with a scale bar.
    basemap_url: str = ""
    basemap_labels_url: str = ""
    basemap_key: str = ""
    basemap_attribution: str = ""
    # Evidence uploads (coordinator/evidence): where files are kept — `local` (content-addressed files
    # under EVIDENCE_DIR, default instance/evidence) or `s3` (an S3-compatible bucket; credentials come
    # from boto3's usual chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance role).
    evidence_store: str = "local"
    evidence_dir: str = ""
    evidence_s3_bucket: str = ""
    evidence_s3_endpoint_url: str = ""
    evidence_s3_region: str = ""
    evidence_s3_prefix: str = "evidence/"
    # The largest file taken (bytes), the most pixels an image may decode to (the decompression-bomb
    # guard) and the longest side of a thumbnail.
    evidence_max_bytes: int = 10 * 1024 * 1024
    evidence_max_pixels: int = 40_000_000
    evidence_thumbnail_px: int = 320
    # Anonymous citizen reports (POST /api/v1/citizen/reports): at most this many per client IP per
    # hour and per phone number per day.
    citizen_reports_per_ip_hour: int = 10
    citizen_reports_per_phone_day: int = 5
    # Request size: bodies larger than this are answered 413 before they are read; multipart uploads
    # (photos, documents) have their own, larger limit.
    max_request_bytes: int = 1_048_576
    max_upload_bytes: int = 20 * 1_048_576
    # Rate limits (coordinator.security, counted in the database across workers and hosts): per window
    # of `rate_window_s` seconds, reports (API and Open311 together) per caller (token or session) and
    # per client address, and batch geolocations per client address. RATE_LIMITS_ENABLED=0 turns
    # them off (benchmarks that measure capacity).
    rate_limits_enabled: bool = True
    rate_window_s: int = 60
    rate_reports_per_caller: int = 30
    rate_reports_per_address: int = 300
    rate_geolocate_batch: int = 10
    # Behind a reverse proxy: how many proxies' X-Forwarded-For / X-Forwarded-Proto to trust (0: none,
    # the client address is the connection's).
    proxy_hops: int = 0
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
