"""Security headers of the pages. The Content-Security-Policy allows only the app's own scripts, styles,
images and requests — plus the configured basemap's tile host for images (coordinator/web/basemap.py).
No inline script runs: pages pass data to their scripts in `application/json` blocks and data-attributes.
"""

from __future__ import annotations

from flask import Response, current_app, request

from coordinator.web.basemap import Basemap

BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(self), camera=(self), microphone=()",
}


def content_security_policy(basemap: Basemap | None) -> str:
    """The CSP of HTML answers."""
    images = ["'self'", "blob:", *(basemap.csp_sources if basemap else [])]
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": images,
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def is_page(path: str) -> bool:
    """Whether the path is one of the web app's pages (its CSP is ours; other HTML keeps the default of
    coordinator/security.py)."""
    from coordinator.web import PAGE_PREFIXES_KEY

    return path == "/" or path.startswith(current_app.extensions[PAGE_PREFIXES_KEY])


def add_security_headers(response: Response) -> Response:
    """On the pages' HTML answers: the CSP and the other security headers (a header already set is
    kept; coordinator/security.py then adds its defaults to every answer)."""
    if response.mimetype != "text/html" or not is_page(request.path):
        return response
    basemap: Basemap | None = current_app.extensions.get("coordinator.basemap")
    response.headers.setdefault("Content-Security-Policy", content_security_policy(basemap))
    for name, value in BASE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
