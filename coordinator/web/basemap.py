"""The optional basemap of the web map: configured tile sources, checked once at start-up.

Our data is WGS-84. 天地图 (Tianditu) serves CGCS2000, which matches WGS-84 to well under a metre, so its
tiles can be laid under our polygons as they are. GCJ-02 sources (高德/AutoNavi, 腾讯) and Baidu's BD-09 are
deliberately offset by ~500 m in Shanghai: they are REFUSED (not converted) — converting would mean
shifting every tile or every feature by an obfuscation formula we do not want in the data path.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from config import Settings

# Hosts of tile services in GCJ-02 or BD-09 coordinates (suffix match on the tile URL's host).
OFFSET_HOSTS = (
    "amap.com",  # 高德 (AutoNavi): GCJ-02
    "autonavi.com",
    "is.autonavi.com",
    "map.qq.com",  # 腾讯地图: GCJ-02
    "gtimg.com",
    "map.baidu.com",  # 百度: BD-09
    "bdimg.com",
    "bdstatic.com",
    "google.cn",  # Google's Chinese tiles: GCJ-02
    "googleapis.cn",
)


class BasemapRefused(ValueError):
    """A configured basemap that cannot be used with WGS-84 data (or is malformed)."""


@dataclass(frozen=True)
class TileLayer:
    """One tile layer as Leaflet needs it: URL template (key filled in) and the host for the CSP."""

    url: str
    csp_source: str


@dataclass(frozen=True)
class Basemap:
    """The configured basemap: a base layer, an optional labels layer, the attribution."""

    layers: tuple[TileLayer, ...]
    attribution: str

    @property
    def csp_sources(self) -> list[str]:
        """The origins the Content-Security-Policy must allow images from."""
        return sorted({layer.csp_source for layer in self.layers})


def _layer(template: str, key: str, what: str) -> TileLayer:
    parts = urlsplit(template.replace("{s}", "s0"))
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise BasemapRefused(f"{what} must be an http(s) URL template, got {template!r}")
    if not all(p in template for p in ("{z}", "{x}", "{y}")):
        raise BasemapRefused(f"{what} must contain {{z}}, {{x}} and {{y}}: {template!r}")
    for bad in OFFSET_HOSTS:
        if host == bad or host.endswith("." + bad):
            raise BasemapRefused(
                f"{what} {host} serves GCJ-02/BD-09 tiles (offset ~500 m from our WGS-84 data): refused; "
                "use 天地图 (CGCS2000) or another WGS-84 source"
            )
    if "{tk}" in template and not key:
        raise BasemapRefused(f"{what} needs a key ({{tk}}): set BASEMAP_KEY")
    raw_host = (urlsplit(template).hostname or host).lower()
    # Subdomains ({s}: t0…t7 of 天地图) become a CSP wildcard on the leftmost label.
    origin_host = "*." + raw_host.split(".", 1)[1] if "{s}" in raw_host.split(".", 1)[0] else raw_host
    port = f":{parts.port}" if parts.port else ""
    return TileLayer(template.replace("{tk}", key), f"{parts.scheme}://{origin_host}{port}")


def configured_basemap(settings: Settings) -> Basemap | None:
    """The basemap of these settings, None without one; BasemapRefused for an unusable one."""
    if not settings.basemap_url:
        if settings.basemap_labels_url:
            raise BasemapRefused("BASEMAP_LABELS_URL needs BASEMAP_URL")
        return None
    layers = [_layer(settings.basemap_url, settings.basemap_key, "BASEMAP_URL")]
    if settings.basemap_labels_url:
        layers.append(_layer(settings.basemap_labels_url, settings.basemap_key, "BASEMAP_LABELS_URL"))
    return Basemap(tuple(layers), settings.basemap_attribution or "")
