"""A live HTTP server for tests that drive the app with outside clients (GeoReport v2 clients, OWSLib,
GDAL's /vsicurl/): Werkzeug's server on 127.0.0.1 and a free port, in a thread, serving the test's app —
so requests see the test's rolled-back transaction — one request at a time (the test's connection is
shared). Every answer passes the contract check (tests/contracts.py) like a test client's does; a
violation fails the test when the server stops."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from tests.contracts import Answer, ContractViolation, check_answer


class ContractCheckingMiddleware:
    """WSGI middleware: hands every answer to `check_answer` and keeps the violations."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.violations: list[str] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, path and headers received

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        iterable = self.app.wsgi_app(environ, capture)
        try:
            body = b"".join(iterable)
        finally:  # static files are streamed from an open file: close it, as a WSGI server must
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        self.requests.append(
            (
                method,
                path,
                {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")},
            )
        )
        headers = {name.lower(): value for name, value in captured["headers"]}
        media_type = headers.get("content-type", "").split(";")[0].strip()
        encoded = headers.get("content-encoding") or int(captured["status"][:3]) in (206, 304)
        if not encoded:  # partial or compressed bodies are not documents; the full answer is checked
            try:
                check_answer(self.app, Answer(method, path, int(captured["status"][:3]), media_type, body))
            except ContractViolation as exc:
                self.violations.append(str(exc))
        return [body]


@contextmanager
def live_server(app: Flask) -> Iterator[tuple[str, ContractCheckingMiddleware]]:
    """Serve `app` at http://127.0.0.1:<free port> while the block runs; yields the base URL."""
    checker = ContractCheckingMiddleware(app)
    server = make_server("127.0.0.1", 0, checker, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", checker
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    assert not checker.violations, "\n".join(checker.violations)
