"""Logging setup: one line per record, to stderr, optionally as JSON for log shippers."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def configure_logging(level: str = "INFO", as_json: bool = False) -> None:
    """Configure the root logger once; calling again only changes the level."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if any(getattr(h, "_coordinator", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._coordinator = True  # type: ignore[attr-defined]
    if as_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    # Alembic announces every plugin at INFO on import; that is noise in CLI output.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
