"""Gunicorn settings of the baseline app (bench/baseline_app.py): the same as the service's.

bench/intake.py names the service's gunicorn.conf.py in BENCH_SERVICE_GUNICORN_CONF (the one of the
version under test). Every plain setting in it (workers, worker_class, threads, timeouts, preload…)
applies here too; its hooks do not (they warm the service's locator). Of what its `post_worker_init`
does, the part that applies to any app is kept: `gc.freeze()` once the worker has loaded the app.
Command-line flags (the bench passes the same --bind/--workers/--log-level to both) still apply on top.
"""

from __future__ import annotations

import gc
import os
import runpy
from typing import Any

from gunicorn.config import KNOWN_SETTINGS

_HOOKS = {s.name for s in KNOWN_SETTINGS if s.section == "Server Hooks"}
_PLAIN = {s.name for s in KNOWN_SETTINGS} - _HOOKS


def service_settings(path: str) -> tuple[dict[str, Any], list[str]]:
    """The plain settings and the names of the hooks that a gunicorn config file sets."""
    if not os.path.exists(path):
        return {}, []
    found = runpy.run_path(path)
    plain = {name: value for name, value in found.items() if name in _PLAIN}
    return plain, sorted(name for name in found if name in _HOOKS)


globals().update(service_settings(os.environ.get("BENCH_SERVICE_GUNICORN_CONF", ""))[0])


def post_worker_init(worker: Any) -> None:
    """Freeze the long-lived heap, as the service's workers do after their warm-up."""
    gc.freeze()
