"""What an uploaded file is, decided from its bytes: no Flask, no database, no storage.

Images are decoded with Pillow — the format sniffed from the content (the name and the client's
Content-Type are never trusted), the pixel count checked before decoding (the decompression-bomb guard),
the whole image decoded (a truncated or corrupt file is refused), turned upright from its EXIF
orientation and re-encoded WITHOUT metadata: the stored file has no EXIF (no GPS position, no camera
serial), no XMP, no text chunks — and no bytes of the upload itself, so a file that is an image and
something else at once (a polyglot) is reduced to the image. The GPS position is read from the EXIF
first and handed back separately (staff see it; see docs/evidence.md). PDFs are recognised by their magic
bytes and kept as sent.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import warnings
from dataclasses import dataclass
from typing import IO, Any

from PIL import Image, ImageOps, UnidentifiedImageError

from coordinator.errors import PayloadTooLarge, UnsupportedMediaType

# Pillow format → the media type we store it as (what phones' browsers upload; HEIC is converted to
# JPEG by the phone's browser when a web form asks for an image).
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
IMAGE_MEDIA_TYPES = tuple(IMAGE_FORMATS.values())
PDF = "application/pdf"
DOCUMENT_MEDIA_TYPES = (PDF, *IMAGE_MEDIA_TYPES)
PDF_MAGIC = b"%PDF-"
THUMBNAIL_MEDIA_TYPE = "image/jpeg"
JPEG_QUALITY = 88
THUMBNAIL_QUALITY = 80
GPS_IFD = 0x8825
NAME_LENGTH = 200


@dataclass(frozen=True)
class Limits:
    """How large a file may be (bytes), how many pixels an image may decode to, the thumbnail's side."""

    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    thumbnail_px: int = 320


@dataclass(frozen=True)
class PreparedFile:
    """A checked file, ready to store: the bytes to keep (for images: re-encoded, metadata-free), its
    thumbnail (images only) and what the database row records."""

    kind: str  # "image" | "document"
    media_type: str
    data: bytes
    width: int | None
    height: int | None
    thumbnail: bytes | None
    original_name: str
    gps: tuple[float, float] | None = None  # (lon, lat) from the original's EXIF

    @property
    def sha256(self) -> str:
        """The content address of the stored bytes."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def thumbnail_sha256(self) -> str | None:
        """The content address of the thumbnail."""
        return None if self.thumbnail is None else hashlib.sha256(self.thumbnail).hexdigest()


def read_limited(stream: IO[bytes], limits: Limits, *, name: str = "") -> bytes:
    """All of `stream`, or 413 `payload_too_large` as soon as it is longer than the limit (reading at
    most one byte more than the limit)."""
    data = stream.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge(
            f"文件过大：每个文件最大 {limits.max_bytes // (1024 * 1024)} MB",
            details={"file": name, "max_bytes": limits.max_bytes},
        )
    return data


def clean_name(name: str | None) -> str:
    """The client's file name for display only: its last path segment, without control characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    return base[:NAME_LENGTH]


def _not_an_image(name: str, why: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        "文件不是可识别的图片（支持 JPEG、PNG、WebP）",
        details={"file": name, "reason": why, "accepted": list(IMAGE_MEDIA_TYPES)},
    )


def _open(data: bytes, name: str, limits: Limits) -> Image.Image:
    """Open `data` as one of IMAGE_FORMATS, refusing more pixels than the limit before decoding them."""
    with warnings.catch_warnings():
        # Pillow warns above its own global limit and raises above twice it; both mean "too many pixels"
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS))
        except UnidentifiedImageError:
            raise _not_an_image(name, "unidentified") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(name, limits) from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise _not_an_image(name, f"unreadable: {exc}") from None
    width, height = image.size
    if width * height > limits.max_pixels or width < 1 or height < 1:
        raise _too_many_pixels(name, limits)
    return image


def _too_many_pixels(name: str, limits: Limits) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"图片像素过多：最多 {limits.max_pixels} 像素",
        details={"file": name, "max_pixels": limits.max_pixels},
    )


def _rational(value: Any) -> float:
    return float(value)


def _gps(image: Image.Image) -> tuple[float, float] | None:
    """(lon, lat) in decimal degrees from the EXIF GPS block, if it holds a usable position."""
    try:
        gps = image.getexif().get_ifd(GPS_IFD)
        if not gps or 2 not in gps or 4 not in gps:
            return None
        lat = sum(_rational(v) / 60**i for i, v in enumerate(gps[2]))
        lon = sum(_rational(v) / 60**i for i, v in enumerate(gps[4]))
        if str(gps.get(1, "N")).upper().startswith("S"):
            lat = -lat
        if str(gps.get(3, "E")).upper().startswith("W"):
            lon = -lon
    except (KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError, OSError):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or (lon == 0 and lat == 0):
        return None
    return (round(lon, 7), round(lat, 7))


def _encode(image: Image.Image, fmt: str) -> bytes:
    """`image` as `fmt`, with no metadata but the colour profile."""
    out = io.BytesIO()
    icc = image.info.get("icc_profile")
    image.info = {}  # no EXIF, XMP, comments or text chunks come along
    params: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, **params)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=True, **params)
    else:
        image.save(out, "WEBP", quality=JPEG_QUALITY, **params)
    return out.getvalue()


def _thumbnail(image: Image.Image, side: int) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((side, side))
    if thumb.mode in ("RGBA", "LA", "P"):
        thumb = thumb.convert("RGBA")
        background = Image.new("RGB", thumb.size, (255, 255, 255))
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    elif thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=THUMBNAIL_QUALITY)
    return out.getvalue()


def prepare_image(data: bytes, *, name: str = "", limits: Limits) -> PreparedFile:
    """Check and clean one image: 413 over the size or pixel limit, 415 unless it decodes as JPEG,
    PNG or WebP. Returns the metadata-free re-encoding, its thumbnail and the EXIF GPS position."""
    name = clean_name(name)
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge("文件过大", details={"file": name, "max_bytes": limits.max_bytes})
    if not data:
        raise _not_an_image(name, "empty")
    image = _open(data, name, limits)
    fmt = image.format or ""
    try:
        image.verify()  # structure and checksums, without decoding
        image = _open(data, name, limits)  # verify() leaves the image unusable: open it again
        image.load()  # decode every pixel: a truncated or corrupt image fails here
        gps = _gps(image)
        upright = ImageOps.exif_transpose(image)
        if getattr(image, "n_frames", 1) > 1:  # an animation: keep its first frame
            upright = upright.copy()
        stored = _encode(upright, fmt)
        thumbnail = _thumbnail(upright, limits.thumbnail_px)
        width, height = upright.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _not_an_image(name, f"undecodable: {exc}") from None
    finally:
        image.close()
    return PreparedFile(
        kind="image",
        media_type=IMAGE_FORMATS[fmt],
        data=stored,
        width=width,
        height=height,
        thumbnail=thumbnail,
        original_name=name,
        gps=gps,
    )


def prepare_document(data: bytes, *, name: str = "", limits: Limits) -> PreparedFile:
    """A document: a PDF (by its magic bytes, kept as sent) or an image (as `prepare_image`)."""
    name = clean_name(name)
    if len(data) > limits.max_bytes:
        raise PayloadTooLarge("文件过大", details={"file": name, "max_bytes": limits.max_bytes})
    if data.startswith(PDF_MAGIC):
        return PreparedFile(
            kind="document",
            media_type=PDF,
            data=data,
            width=None,
            height=None,
            thumbnail=None,
            original_name=name,
        )
    try:
        return prepare_image(data, name=name, limits=limits)
    except UnsupportedMediaType as exc:
        raise UnsupportedMediaType(
            "文件不是 PDF 或可识别的图片",
            details={"file": name, "accepted": list(DOCUMENT_MEDIA_TYPES), "reason": exc.details["reason"]},
        ) from None
