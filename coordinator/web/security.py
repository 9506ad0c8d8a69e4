"""Security headers of the pages. The Content-Security-Policy allows only the app's own scripts, styles,
images and requests — plus the configured basemap's tile host for images (coordinator/web/basemap.py).
No inline script runs: pages pass data to their scripts in `application/json` blocks and data-attributes.
"""

from __future__ import annotations

from flask import Response, current_app

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


def add_security_headers(response: Response) -> Response:
    """On HTML answers: the CSP and the other security headers (a header already set is kept)."""
    if response.mimetype != "text/html":
        return response
    basemap: Basemap | None = current_app.extensions.get("coordinator.basemap")
    response.headers.setdefault("Content-Security-Policy", content_security_policy(basemap))
    for name, value in BASE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
