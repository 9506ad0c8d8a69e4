"""Files for upload tests, made here (no binary fixtures in the repo)."""

from __future__ import annotations

import io

from PIL import Image

# A camera's GPS block: 30°53'24"N 121°22'12"E — in the 金山–奉贤 border zone.
GPS = {1: "N", 2: (30.0, 53.0, 24.0), 3: "E", 4: (121.0, 22.0, 12.0)}
GPS_LONLAT = (121.37, 30.89)
CAMERA = "JiaojieTestCam"


def jpeg(width: int = 64, height: int = 48, *, gps: bool = True, orientation: int | None = None) -> bytes:
    """A JPEG photo with EXIF (camera make, GPS position, optionally an orientation) and XMP."""
    image = Image.new("RGB", (width, height), (180, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = CAMERA
    if orientation is not None:
        exif[0x0112] = orientation
    if gps:
        exif.get_ifd(0x8825).update(GPS)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, xmp=b"<x:xmpmeta>xmp-secret</x:xmpmeta>")
    return out.getvalue()


def png(width: int = 32, height: int = 32, *, mode: str = "RGBA") -> bytes:
    """A PNG with a text chunk."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "png-secret")
    out = io.BytesIO()
    Image.new(mode, (width, height)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def webp(width: int = 32, height: int = 32) -> bytes:
    """A WebP photo (what some Android browsers upload)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 40)).save(out, "WEBP")
    return out.getvalue()


def pdf() -> bytes:
    """A minimal PDF."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def bomb_png(side: int) -> bytes:
    """A PNG of side × side pixels that compresses to almost nothing (a decompression bomb)."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG", optimize=True)
    return out.getvalue()
