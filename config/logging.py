"""Logging setup: one line per record, to stderr, optionally as JSON for log shippers.

Every record carries the id of the request (or scheduler job run) it was written in, from the context
variable `request_id_var` that coordinator.ops.requestid sets; the same id is stored on the audit rows
that request wrote (case_event.request_id) and answered in the `X-Request-ID` header.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes of every LogRecord; anything else a caller passed with `extra=` goes into the JSON line.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Give each record the current request id (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or "-"
        return True


# Secrets that could reach a log line: API tokens (`jj_…`), a bearer header, query or form parameters
# that carry a credential, the secret status link of a report (/api/v1/status/<token>, /s/<token>).
_SECRETS = (
    (re.compile(r"jj_[A-Za-z0-9_\-]{8,}"), "jj_[REDACTED]"),
    (re.compile(r"(?i)(bearer\s+)[^\s\"',]+"), r"\1[REDACTED]"),
    (
        re.compile(r"(?i)\b(api_key|token|password|secret|access_token|feed_token)=[^&\s\"']*"),
        r"\1=[REDACTED]",
    ),
    (re.compile(r"(?i)(\"(?:password|token|api_key|secret)\"\s*:\s*\")[^\"]*"), r"\1[REDACTED]"),
    (re.compile(r"(/(?:api/v1/status|s)/)[^/\s?\"']+"), r"\1[REDACTED]"),
)


def redact(text: str) -> str:
    """`text` with every credential-shaped part replaced by [REDACTED]."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with its secrets redacted (passwords and tokens never reach a
    log, whatever a caller formatted into it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id and request_id != "-":
            payload["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", as_json: bool = False) -> None:
    """Configure the root logger once; calling again only changes the level."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if any(getattr(h, "_coordinator", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._coordinator = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter())
    handler.addFilter(RequestIdFilter())
    if as_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
        )
    root.addHandler(handler)
    # Alembic announces every plugin at INFO on import; that is noise in CLI output.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
