"""What an upload is, decided from its bytes: images decoded, metadata stripped, PDFs by magic bytes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from coordinator.errors import PayloadTooLarge, UnsupportedMediaType
from coordinator.evidence.files import Limits, clean_name, prepare_document, prepare_image, read_limited
from tests.evidence import images

LIMITS = Limits(max_bytes=200_000, max_pixels=1_000_000, thumbnail_px=32)


def test_an_image_is_re_encoded_without_metadata_upright_with_its_gps_kept_aside() -> None:
    upload = images.jpeg(64, 48, orientation=6)  # EXIF says: rotate 90°
    assert images.CAMERA.encode() in upload and b"xmp-secret" in upload
    prepared = prepare_image(upload, name="DCIM/IMG_0001.JPG", limits=LIMITS)
    assert prepared.kind == "image" and prepared.media_type == "image/jpeg"
    assert (prepared.width, prepared.height) == (48, 64)
    assert prepared.gps == images.GPS_LONLAT
    assert prepared.original_name == "IMG_0001.JPG"
    stored = Image.open(io.BytesIO(prepared.data))
    assert stored.size == (48, 64)
    assert not stored.getexif() and not stored.getexif().get_ifd(0x8825)
    assert images.CAMERA.encode() not in prepared.data and b"xmp-secret" not in prepared.data
    thumb = Image.open(io.BytesIO(prepared.thumbnail or b""))
    assert thumb.format == "JPEG" and max(thumb.size) == 32


def test_png_text_chunks_are_dropped_and_transparency_thumbnails_on_white() -> None:
    prepared = prepare_image(images.png(), name="x.png", limits=LIMITS)
    assert prepared.media_type == "image/png" and b"png-secret" not in prepared.data
    assert prepared.gps is None
    assert Image.open(io.BytesIO(prepared.thumbnail or b"")).mode == "RGB"


def test_the_type_comes_from_the_content_not_the_name() -> None:
    with pytest.raises(UnsupportedMediaType) as refused:
        prepare_image(b"<html><script>alert(1)</script></html>", name="photo.jpg", limits=LIMITS)
    assert refused.value.status == 415 and refused.value.code == "unsupported_media_type"
    # A PNG named .jpg is stored as what it is.
    assert prepare_image(images.png(), name="photo.jpg", limits=LIMITS).media_type == "image/png"


@pytest.mark.parametrize(
    "data",
    [b"", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", images.jpeg()[:200], images.pdf()],
    ids=["empty", "gif", "truncated-jpeg", "pdf"],
)
def test_what_is_not_a_whole_jpeg_png_or_webp_is_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedMediaType):
        prepare_image(data, name="x", limits=LIMITS)


def test_too_many_pixels_is_refused_before_decoding() -> None:
    bomb = images.bomb_png(2000)  # 4 million pixels in a few kilobytes
    assert len(bomb) < 20_000
    with pytest.raises(PayloadTooLarge) as refused:
        prepare_image(bomb, name="bomb.png", limits=LIMITS)
    assert refused.value.status == 413 and refused.value.details["max_pixels"] == LIMITS.max_pixels


def test_pillows_own_bomb_guard_is_a_413_too() -> None:
    # Past Pillow's global limit (MAX_IMAGE_PIXELS) the open itself warns or raises: still a 413.
    side = int((Image.MAX_IMAGE_PIXELS or 0) ** 0.5) + 100
    with pytest.raises(PayloadTooLarge):
        prepare_image(images.bomb_png(side), name="bomb.png", limits=Limits(max_pixels=10**12))


def test_reading_stops_one_byte_past_the_limit() -> None:
    stream = io.BytesIO(b"x" * 1000)
    with pytest.raises(PayloadTooLarge) as refused:
        read_limited(stream, Limits(max_bytes=100), name="big.jpg")
    assert stream.tell() == 101 and refused.value.details["max_bytes"] == 100
    assert read_limited(io.BytesIO(b"y" * 100), Limits(max_bytes=100)) == b"y" * 100


def test_documents_are_pdfs_by_magic_bytes_or_images() -> None:
    document = prepare_document(images.pdf(), name="图纸.pdf", limits=LIMITS)
    assert (document.kind, document.media_type, document.thumbnail) == ("document", "application/pdf", None)
    assert document.data == images.pdf()
    assert prepare_document(images.jpeg(), name="scan.jpg", limits=LIMITS).kind == "image"
    with pytest.raises(UnsupportedMediaType) as refused:
        prepare_document(b"PK\x03\x04 a zip named .pdf", name="x.pdf", limits=LIMITS)
    assert "application/pdf" in refused.value.details["accepted"]


def test_file_names_are_for_display_only() -> None:
    assert clean_name("..\\..\\etc/passwd\x00\n.jpg") == "passwd.jpg"
    assert clean_name(None) == ""
    assert len(clean_name("a" * 500)) == 200
