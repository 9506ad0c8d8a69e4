"""Gunicorn settings read by every `gunicorn wsgi:app` started in this directory (`make run`, the
benchmarks). Command-line flags (--bind, --workers) still apply on top.

Each worker warms up before it takes its first request: it builds the boundary locator (otherwise the
first report or geolocation request a worker serves waits for it) and then moves everything alive at
that point — the app, SQLAlchemy's metadata, the locator's grids — into the garbage collector's
permanent generation (`gc.freeze`). Those objects live as long as the worker; without the freeze every
full collection walks the locator's hundreds of thousands of objects again.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

log = logging.getLogger("gunicorn.error")

# Access and error lines with credentials redacted (Open311 api_key=, feed token=, status links).
logger_class = "config.gunicorn_logging.RedactingLogger"


def post_worker_init(worker: Any) -> None:
    """Warm the worker's locator, then freeze the long-lived heap."""
    from coordinator.geolocation.views import warm_up

    try:
        warm_up(worker.wsgi)
    except Exception:  # a database that is not migrated yet: the locator is built on first use instead
        log.exception("worker warm-up failed; the locator will be built on first use")
    gc.freeze()
