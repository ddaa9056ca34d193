"""Photo processing: upright, stripped of metadata, within Twilio's MMS limits; bad files refused."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image

from app.services.media.outbound import Upload, prepare_uploads
from app.services.media.processing import (
    MMS_MAX_TOTAL_BYTES,
    ImageRejected,
    mms_budget,
    prepare_for_mms,
    prepare_for_storage,
)
from tests.support.media_stand_in import has_gps, photo_bytes


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def _noisy_photo(size=(4000, 3000)) -> bytes:
    """Noise compresses badly: the worst case for the size budget."""
    image = Image.frombytes("RGB", size, bytes(bytearray(__import__("os").urandom(size[0] * size[1] * 3))))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def test_orientation_is_applied_then_every_bit_of_metadata_dropped():
    original = photo_bytes((1200, 800), orientation=6)
    photo = prepare_for_mms(original, "x")
    with _open(photo.data) as image:
        assert image.size == (800, 1200)  # rotated upright
        assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
        # the blue mark drawn top-left is now top-right, as a viewer honouring EXIF showed it
        assert image.getpixel((780, 10))[2] > 150 and image.getpixel((10, 10))[2] < 100
    assert not has_gps(photo.data) and b"PhoneMaker" not in photo.data
    assert not has_gps(photo.thumbnail) and max(_open(photo.thumbnail).size) == 320


def test_large_photo_is_resized_and_fits_the_budget():
    photo = prepare_for_mms(_noisy_photo(), "x", budget=mms_budget(10))
    assert max(photo.width, photo.height) <= 1600
    assert len(photo.data) <= mms_budget(10) <= MMS_MAX_TOTAL_BYTES // 10


def test_heic_from_an_iphone_is_accepted():
    from pillow_heif import from_pillow

    heif = from_pillow(Image.new("RGB", (640, 480), (10, 200, 30)))
    out = io.BytesIO()
    heif.save(out, quality=80)
    photo = prepare_for_mms(out.getvalue(), "IMG_0001.HEIC")
    assert (photo.width, photo.height) == (640, 480) and photo.data[:2] == b"\xff\xd8"


def test_png_with_transparency_is_laid_on_white():
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    with _open(prepare_for_storage(out.getvalue(), "x").data) as stored:
        assert stored.getpixel((50, 50)) == (255, 255, 255)


def _png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb's first bytes)."""
    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.7 not a photo", "not a photo we can read"),
    (b"", "not a photo we can read"),
    (photo_bytes()[:600], "damaged"),
    (_png_header_claiming(30000, 30000), "too large to process"),
    (_png_header_claiming(100000, 100000), "too large to process"),  # past Pillow's own hard limit
])
def test_bad_files_are_refused_with_a_clear_reason(data, message):
    with pytest.raises(ImageRejected, match=message):
        prepare_for_mms(data, "that file")


def test_uploads_are_checked_together_before_anything_is_kept():
    with pytest.raises(Exception, match="at most 10 photos"):
        prepare_uploads([Upload(f"{i}.jpg", photo_bytes((64, 64))) for i in range(11)])
    with pytest.raises(Exception, match='"notes.pdf" is not a photo'):
        prepare_uploads([Upload("ok.jpg", photo_bytes((64, 64))), Upload("notes.pdf", b"%PDF-1.7")])
    assert prepare_uploads([Upload("", b"")]) == []  # an empty file field is not a photo


@pytest.mark.parametrize("profile", ["srgb", "garbage"])
def test_embedded_colour_profile_is_applied_then_dropped(profile):
    from PIL import ImageCms

    icc = (ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes() if profile == "srgb"
           else b"not a profile")
    out = io.BytesIO()
    Image.new("RGB", (200, 100), (200, 10, 10)).save(out, "JPEG", icc_profile=icc)
    with _open(prepare_for_mms(out.getvalue(), "x").data) as image:
        assert "icc_profile" not in image.info
        red, green, blue = image.getpixel((5, 5))
        assert red > 180 and green < 40 and blue < 40


@pytest.mark.parametrize("orientation", [1, 6])
def test_a_png_is_shrunk_right_after_decoding_never_copied_at_full_size(monkeypatch, orientation):
    """PNG has no draft mode: its full-size pixels exist once, after decoding. Nothing else may
    work on them (the transposed copy doubled the peak: a 50 MP PNG cost about 320 MB, 130 MB
    after); transposing, colour and alpha work on the shrunk copy."""
    worked_on: list[tuple[str, tuple[int, int]]] = []
    for name in ("copy", "convert", "transpose"):
        real = getattr(Image.Image, name)

        def spy(self, *args, _real=real, _name=name, **kwargs):
            worked_on.append((_name, self.size))
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(Image.Image, name, spy)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (120, 200, 90)).save(out, "PNG", exif=exif.tobytes())
    photo = prepare_for_mms(out.getvalue(), "x")
    assert (photo.width, photo.height) == ((1600, 1200) if orientation == 1 else (1200, 1600))
    assert worked_on and all(max(size) <= 1600 for _, size in worked_on), worked_on
