"""Typed errors with an HTTP status and a stable code, and the one handler that renders them.

Every error leaves the service as `{"error": {"code": …, "message": …, "details": …}}` — except under
a path prefix that registered its own renderer (`register_error_renderer`): an outside standard such as
Open311 GeoReport v2 fixes its own error body, and routing errors (404/405) there must follow it too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, has_request_context, jsonify, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# (status, code, message, details) -> Response, for the paths under one prefix.
ErrorRenderer = Callable[[int, str, str, Any], Response]
RENDERERS_KEY = "coordinator.error_renderers"


class ApiError(Exception):
    """Base of all errors a client may see. Subclasses fix `status` and `code`."""

    status: int = 400
    code: str = "bad_request"
    headers: dict[str, str] = {}  # noqa: RUF012  (read-only class default; subclasses replace it)

    def __init__(
        self, message: str, *, details: Any = None, code: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of the error."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(ApiError):
    """The request is malformed (not JSON, wrong content type, …)."""

    status = 400
    code = "bad_request"


class ValidationFailed(ApiError):
    """The request is well-formed but its values break the schema or a rule."""

    status = 422
    code = "validation_failed"


class Unauthorized(ApiError):
    """No valid credentials: a missing, unknown, expired or revoked token, or no session."""

    status = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="jiaojie"'}  # noqa: RUF012


class Forbidden(ApiError):
    """Valid credentials whose role or scope does not allow the request."""

    status = 403
    code = "forbidden"


class NotFound(ApiError):
    """The addressed resource does not exist."""

    status = 404
    code = "not_found"


class Conflict(ApiError):
    """The request conflicts with the resource's current state."""

    status = 409
    code = "conflict"


class UnsupportedMediaType(ApiError):
    """A file's content is not of a type the route takes (checked by decoding it, never by its name)."""

    status = 415
    code = "unsupported_media_type"


class TooManyRequests(ApiError):
    """The caller must wait `retry_after` seconds (sent as `Retry-After`)."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.headers = {"Retry-After": str(retry_after)}


class RateLimited(TooManyRequests):
    """A rate limit of coordinator.ratelimit is used up for this window: 429 with `Retry-After`."""

    code = "rate_limited"


class PayloadTooLarge(ApiError):
    """The request body is larger than the configured maximum (checked before it is read)."""

    status = 413
    code = "payload_too_large"


class ServiceUnavailable(ApiError):
    """A dependency (the database) is not answering: 503 with `Retry-After` (worth retrying soon)."""

    status = 503
    code = "unavailable"

    def __init__(self, message: str, *, details: Any = None, retry_after: int = 1) -> None:
        super().__init__(message, details=details)
        self.headers = {"Retry-After": str(retry_after)}


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    """Build a JSON error response in the one shape."""
    response = jsonify({"error": {"code": code, "message": message, "details": details}})
    response.status_code = status
    return response


def register_error_renderer(app: Flask, prefix: str, renderer: ErrorRenderer) -> None:
    """Render every error of requests whose path starts with `prefix` with `renderer` instead."""
    app.extensions.setdefault(RENDERERS_KEY, []).append((prefix, renderer))


def _render(status: int, code: str, message: str, details: Any = None) -> Response:
    if has_request_context():
        for prefix, renderer in current_app.extensions.get(RENDERERS_KEY, []):
            if request.path.startswith(prefix):
                response: Response = renderer(status, code, message, details)
                return response
    return error_response(status, code, message, details)


def render_error(exc: ApiError) -> Response:
    """The response for `exc`, as the error handler renders it. For the rare view that must answer an
    error *and* keep its writes (a failed login counts): it returns this instead of raising, so the
    request's transaction commits."""
    response = _render(exc.status, exc.code, exc.message, exc.details)
    response.headers.update(exc.headers)
    return response


def register_error_handlers(app: Flask) -> None:
    """Turn ApiError, HTTP errors and unexpected exceptions into the one JSON error shape."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return render_error(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_").replace("'", "")
        if status == 413:  # Werkzeug stopped a body at the limit (no Content-Length, or a form field)
            code = "payload_too_large"
        response = _render(status, code, exc.description or exc.name or "error")
        if status == 405 and exc.get_headers():
            for name, value in exc.get_headers():
                if name.lower() == "allow":
                    response.headers["Allow"] = value
        return response

    @app.errorhandler(DBAPIError)
    def _database_error(exc: DBAPIError) -> Response:
        if not (exc.connection_invalidated or isinstance(exc, OperationalError)):
            return _unexpected(exc)
        # The database went away under a pooled connection (restart, failover) — the pool has been
        # invalidated and the next request reconnects — or cannot be reached right now (refused,
        # starting up, too many connections): worth retrying, and nothing was committed.
        log.warning("database unavailable: %s", exc.orig)
        response = _render(503, "database_unavailable", "the database connection was lost; retry")
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return _render(500, "internal_error", "internal server error; the incident was logged")
