"""HTTP for big, slow-changing answers: validators (ETag, Last-Modified) with 304s, byte ranges, and gzip.

- `conditional(payload, …)` answers a layer that changes only when the geography does (boundaries,
  borders, border zones, squads): a strong ETag from the content's hash, `Last-Modified` from when the
  geography last changed, `304` on `If-None-Match` / `If-Modified-Since`, and byte ranges (`Accept-Ranges:
  bytes`, `206`, `416`) so that GDAL's `/vsicurl/` — what QGIS reads HTTP sources with — can read it.
  Werkzeug's `make_conditional` does the HTTP; this module decides what the validators are.
- `compress` (an `after_request` hook) gzips a large JSON answer when the client accepts it. Ranges
  apply to the identity encoding only: a request with `Range` is never compressed, and the gzip
  answer carries its own ETag (`"<hash>-gzip"`), as two encodings of one resource must.
"""

from __future__ import annotations

import gzip
import hashlib
from datetime import datetime
from typing import Any

from flask import Response, current_app, request

GZIP_MIN_BYTES = 1024  # below one packet compressing saves nothing worth the CPU
GZIP_SUFFIX = "-gzip"
COMPRESSIBLE = frozenset({"application/json", "application/geo+json", "text/xml", "application/xml"})


def conditional(
    payload: Any, *, media_type: str, last_modified: datetime | None, private: bool = False
) -> Response:
    """A JSON answer with validators, answering 304 and byte ranges as the request asks."""
    body = current_app.json.dumps(payload).encode("utf-8")
    response = Response(body, mimetype=media_type)
    tag = hashlib.sha256(body).hexdigest()[:32]
    response.set_etag(tag)
    if last_modified is not None:
        response.last_modified = last_modified
    response.cache_control.no_cache = True  # revalidate every time: a 304 is cheap, stale data is not
    if private:
        response.cache_control.private = True
    else:
        response.cache_control.public = True
    response.vary.add("Accept-Encoding")
    if request.if_none_match.contains(tag + GZIP_SUFFIX):  # what a gzip answer of this content was
        response.set_etag(tag + GZIP_SUFFIX)
        response.status_code = 304
        response.set_data(b"")
        return response
    response.make_conditional(request, accept_ranges=True, complete_length=len(body))
    return response


def _accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def compress(response: Response) -> Response:
    """`after_request`: gzip a complete JSON/XML answer of 1 KB or more if the client accepts gzip."""
    if (
        response.status_code != 200
        or response.direct_passthrough
        or "Content-Encoding" in response.headers
        or response.mimetype not in COMPRESSIBLE
        or "Range" in request.headers
        or not _accepts_gzip()
    ):
        return response
    body = response.get_data()
    if len(body) < GZIP_MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=6))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    tag, weak = response.get_etag()
    if tag is not None:
        response.set_etag(tag + GZIP_SUFFIX, weak=bool(weak))
    return response
