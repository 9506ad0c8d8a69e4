"""The optional basemap: WGS-84/CGCS2000 sources (天地图) are used and allowed by the CSP; GCJ-02 and
BD-09 sources are refused at start-up."""

from __future__ import annotations

import pytest

from config import Settings
from coordinator.web.basemap import BasemapRefused, configured_basemap
from coordinator.web.security import content_security_policy

TIANDITU = (
    "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
    "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={tk}"
)


def test_no_basemap_by_default() -> None:
    assert configured_basemap(Settings(secret_key="x")) is None


def test_tianditu_with_its_key_and_the_csp_allows_its_hosts() -> None:
    basemap = configured_basemap(Settings(secret_key="x", basemap_url=TIANDITU, basemap_key="KEY123"))
    assert basemap is not None
    assert basemap.layers[0].url.endswith("&tk=KEY123")
    assert basemap.csp_sources == ["https://*.tianditu.gov.cn"]
    assert "img-src 'self' blob: https://*.tianditu.gov.cn;" in content_security_policy(basemap)


@pytest.mark.parametrize(
    "url",
    [
        "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8",  # 高德
        "https://rt0.map.gtimg.com/tile?z={z}&x={x}&y={y}",  # 腾讯
        "https://maponline0.bdimg.com/tile/?x={x}&y={y}&z={z}",  # 百度 BD-09
    ],
)
def test_gcj02_and_bd09_sources_are_refused(url: str) -> None:
    with pytest.raises(BasemapRefused, match="GCJ-02"):
        configured_basemap(Settings(secret_key="x", basemap_url=url))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"basemap_url": TIANDITU}, "needs a key"),
        ({"basemap_url": "ftp://tiles.example/{z}/{x}/{y}.png"}, "http"),
        ({"basemap_url": "https://tiles.example/tile.png"}, "{z}"),
        ({"basemap_labels_url": "https://tiles.example/{z}/{x}/{y}.png"}, "needs BASEMAP_URL"),
    ],
)
def test_malformed_basemaps_are_refused(settings: dict[str, str], message: str) -> None:
    with pytest.raises(BasemapRefused, match=message):
        configured_basemap(Settings(secret_key="x", **settings))  # type: ignore[arg-type]
