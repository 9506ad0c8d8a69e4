"""The web edge's defences that are not about who may do what (coordinator.policy is):

* Request size: every body larger than `MAX_REQUEST_BYTES` (multipart uploads: `MAX_UPLOAD_BYTES`) is
  answered 413 `payload_too_large` in the JSON error shape *before* anything reads it — checked against
  Content-Length up front, and Flask/Werkzeug stop a body without one (chunked) at the same limit
  (`request.max_content_length`, `MAX_FORM_MEMORY_SIZE` for form fields).
* Rate limits (coordinator.ratelimit) on the routes that create work or burn CPU for anyone:
  `RATE_LIMITED` maps each such endpoint to its group; a group is limited per client address (before
  authentication, so floods with bad credentials count) and per caller (token or session).
* Response headers: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, a restrictive
  `Content-Security-Policy` on every HTML answer that did not set its own, `Cache-Control: no-store` on
  answers that carry full personal contact data (`no_store`).
* Behind a reverse proxy, `PROXY_HOPS` trusted hops of `X-Forwarded-For` give the client address.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Settings
from coordinator import ratelimit
from coordinator.errors import PayloadTooLarge
from coordinator.settings import get_settings

MULTIPART = "multipart/form-data"
NO_STORE_FLAG = "no_store"

# The policy of HTML answers that bring none: nothing from elsewhere, no inline script, never framed.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class LimitGroup:
    """One limit shared by several endpoints: hits per window per caller and per client address."""

    name: str
    per_caller: int
    per_address: int
    window_s: int


def limit_groups(settings: Settings) -> dict[str, LimitGroup]:
    """The configured limit groups."""
    window = settings.rate_window_s
    return {
        "reports": LimitGroup(
            "reports", settings.rate_reports_per_caller, settings.rate_reports_per_address, window
        ),
        "geolocate_batch": LimitGroup(
            "geolocate_batch", settings.rate_geolocate_batch, settings.rate_geolocate_batch, window
        ),
        # Anonymous citizens' reports: per client address per hour (and, in the view, per phone per day).
        "citizen_reports": LimitGroup(
            "citizen_reports",
            settings.citizen_reports_per_ip_hour,
            settings.citizen_reports_per_ip_hour,
            3600,
        ),
    }


# Endpoint → limit group. Report intake (the API and Open311, JSON and XML) shares one group, so a
# client cannot double its allowance by switching route.
RATE_LIMITED: dict[str, str] = {
    "cases.submit_report": "reports",
    "open311.post_request": "reports",
    "open311.post_request_xml": "reports",
    "geolocate.geolocate_batch": "geolocate_batch",
    "citizen.submit_report": "citizen_reports",
}


def _group(endpoint: str | None) -> LimitGroup | None:
    name = RATE_LIMITED.get(endpoint or "")
    settings = get_settings()
    if name is None or not settings.rate_limits_enabled:
        return None
    return limit_groups(settings)[name]


def limit_address(endpoint: str | None) -> None:
    """Count the request against its client address, if the endpoint is rate-limited."""
    group = _group(endpoint)
    if group is not None:
        ratelimit.enforce(
            f"{group.name}:address",
            ratelimit.client_address(),
            limit=group.per_address,
            window_seconds=group.window_s,
        )


def limit_caller(endpoint: str | None, caller_key: str) -> None:
    """Count the request against its authenticated caller (`token:<id>` or `user:<id>`)."""
    group = _group(endpoint)
    if group is not None:
        ratelimit.enforce(
            f"{group.name}:caller", caller_key, limit=group.per_caller, window_seconds=group.window_s
        )


def is_rate_limited(endpoint: str) -> bool:
    """Whether the endpoint can answer 429 (for the OpenAPI document)."""
    return endpoint in RATE_LIMITED


def limit_request_size() -> None:
    """Refuse a body over the limit before anything reads it (the first `before_request` hook)."""
    settings = get_settings()
    upload = (request.mimetype or "") == MULTIPART
    limit = settings.max_upload_bytes if upload else settings.max_request_bytes
    request.max_content_length = limit  # a body without Content-Length stops at the limit too
    length = request.content_length
    if length is not None and length > limit:
        raise PayloadTooLarge(
            f"请求体过大：最多 {limit} 字节" + ("（上传文件）" if upload else ""),
            details={"max_bytes": limit, "content_length": length, "upload": upload},
        )


def no_store() -> None:
    """Mark the current answer as carrying full personal contact data: it must not be cached."""
    g.setdefault(NO_STORE_FLAG, True)


def security_headers(response: Response) -> Response:
    """Headers every answer gets (an `after_request` hook)."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html" and "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = DEFAULT_CSP
    if g.get(NO_STORE_FLAG):
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("ETag", None)
        response.headers.pop("Last-Modified", None)
    return response


def init_app(app: Flask, settings: Settings) -> None:
    """Install the size limit (first of all hooks), the headers and, if configured, the proxy fix."""
    app.config["MAX_CONTENT_LENGTH"] = max(settings.max_request_bytes, settings.max_upload_bytes)
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_request_bytes
    app.before_request_funcs.setdefault(None, []).insert(0, limit_request_size)
    app.after_request(security_headers)
    if settings.proxy_hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
