"""Request ids: every request carries one — the caller's `X-Request-ID` when it is a sane token, else a
fresh one — in the response header, in every log line written while it runs (config.logging) and on
every audit row it writes (case_event.request_id). Scheduler job runs set one of their own.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response, g, request

from config.logging import request_id_var

HEADER = "X-Request-ID"
# What we accept from a caller (a proxy's or a client's id): short, printable, no separators that
# could forge a log field. Anything else is replaced, not rejected.
_ACCEPTED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,63}")
MAX_LENGTH = 64  # the width of case_event.request_id
access_log = logging.getLogger("coordinator.access")


def new_request_id() -> str:
    """A fresh id (32 hex digits)."""
    return uuid.uuid4().hex


def accepted_request_id(raw: str | None) -> str:
    """The caller's id if acceptable, else a fresh one."""
    if raw and _ACCEPTED.fullmatch(raw):
        return raw
    return new_request_id()


def current_request_id() -> str | None:
    """The id of the request or job run in progress, None outside both."""
    return request_id_var.get()


@contextmanager
def request_id_scope(request_id: str) -> Iterator[str]:
    """Run a block (a scheduler job, a CLI command) under `request_id`."""
    token = request_id_var.set(request_id[:MAX_LENGTH])
    try:
        yield request_id
    finally:
        request_id_var.reset(token)


def init_app(app: Flask, *, log_requests: bool = True) -> None:
    """Register the hooks. Call before any other `before_request`, so every later hook logs with it."""

    @app.before_request
    def _start() -> None:
        rid = accepted_request_id(request.headers.get(HEADER))
        g.request_id = rid
        g.request_id_token = request_id_var.set(rid)
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers[HEADER] = rid
            if log_requests:
                access_log.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 2),
                        "remote_addr": request.remote_addr,
                    },
                )
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            try:
                request_id_var.reset(token)
            except ValueError:  # torn down in another context than it started in
                request_id_var.set(None)
