"""Gunicorn's access log without secrets: the request line, path, query string and referrer of each
access log line pass through `config.logging.redact` (an Open311 `api_key=` or a calendar feed's
`token=` in the query string, a report's secret status link in the path). Named by gunicorn.conf.py
(`logger_class`)."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from config.logging import RedactingFilter, redact

REDACTED_ATOMS = ("r", "U", "q", "f")


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger with secrets redacted from access and error lines."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.addFilter(RedactingFilter())

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in REDACTED_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        for key in list(atoms):
            if key.endswith("}i") and key.startswith(("{authorization", "{cookie", "{referer")):
                atoms[key] = "[REDACTED]"
        return atoms
