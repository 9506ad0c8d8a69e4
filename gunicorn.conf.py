"""Gunicorn settings read by every `gunicorn wsgi:app` started in this directory (`make run`, the
benchmarks). Command-line flags (--bind, --workers) still apply on top.

Prometheus: with PROMETHEUS_MULTIPROC_DIR set, each worker writes its metric samples to files there and
`/metrics` sums them (coordinator.ops.metrics); `child_exit` marks a dead worker's files so its gauges
are dropped. The directory must be emptied when the service starts (deploy/ does).

Request limits: gunicorn refuses request lines longer than `limit_request_line` bytes (414), more than
`limit_request_fields` headers or headers longer than `limit_request_field_size` (431/400) before the
app sees them, answering with its own short plain-text body (the JSON error shape cannot be had
there); the limits are set here explicitly and documented in docs/operations.md.

Each worker warms up before it takes its first request: it builds the boundary locator (otherwise the
first report or geolocation request a worker serves waits for it) and then moves everything alive at
that point — the app, SQLAlchemy's metadata, the locator's grids — into the garbage collector's
permanent generation (`gc.freeze`). Those objects live as long as the worker; without the freeze every
full collection walks the locator's hundreds of thousands of objects again.
"""

from __future__ import annotations

import gc
import logging
import os
from typing import Any

log = logging.getLogger("gunicorn.error")

# Access and error lines with credentials redacted (Open311 api_key=, feed token=, status links).
logger_class = "config.gunicorn_logging.RedactingLogger"
# Request limits (gunicorn's defaults, stated): see the module docstring.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190


def post_worker_init(worker: Any) -> None:
    """Warm the worker's locator, then freeze the long-lived heap."""
    from coordinator.geolocation.views import warm_up

    try:
        warm_up(worker.wsgi)
    except Exception:  # a database that is not migrated yet: the locator is built on first use instead
        log.exception("worker warm-up failed; the locator will be built on first use")
    gc.freeze()


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from the multiprocess metrics directory."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
