"""Photo uploads have a pixel budget per photo and per request, checked from the headers before decoding.

The probe: ten 8000×8000 PNGs (2 MB in all) in one sitter post cost 14.6 s and 738 MB in one web process.
"""

from __future__ import annotations

import struct
import time
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Message, MessageMedia
from tests.blueprints.test_media_routes import _send
from tests.support.media_stand_in import photo_bytes
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def png_header(width: int, height: int) -> bytes:
    """A PNG that says it is width×height (its pixels would be decoded only if someone tried)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.fixture
def visit(app, make, clock, tmp_path):
    app.config["MEDIA_ROOT"] = str(tmp_path / "media")
    app.extensions.pop("pawline_media_store", None)
    clock.set(START + timedelta(minutes=15))
    return make_visit(make, start=START, hours=1)


def _nothing_sent():
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    assert db.session.scalar(select(func.count()).select_from(MessageMedia)) == 0


def test_the_probes_ten_huge_pngs_are_refused_at_once_with_a_clear_message(client, login_as, visit):
    login_as(visit.user)
    started = time.perf_counter()
    response = _send(client, visit, photos=[(f"big{i}.png", png_header(8000, 8000)) for i in range(10)])
    assert time.perf_counter() - started < 5
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "big0.png is too large to send (8000×8000, 64 megapixels" in page
    _nothing_sent()


def test_photos_too_large_together_are_refused(client, login_as, visit):
    login_as(visit.user)
    response = _send(client, visit, photos=[(f"p{i}.png", png_header(6000, 7000)) for i in range(4)])
    assert response.status_code == 422 and "too large together" in response.get_data(as_text=True)
    _nothing_sent()


def test_ordinary_phone_photos_still_go(client, login_as, visit):
    login_as(visit.user)
    response = _send(client, visit, photos=[("IMG_1.JPG", photo_bytes((1200, 900)))])
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(MessageMedia)) == 1


@pytest.fixture
def decodes(monkeypatch):
    """Every pixel decode Pillow does in this process: (format, width, height) as it loads."""
    from PIL import ImageFile

    seen: list[tuple[str | None, int, int]] = []
    real_load = ImageFile.ImageFile.load

    def load(self):
        seen.append((self.format, *self.size))
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return seen


def test_photos_over_the_budget_are_never_decoded_in_the_web_process(client, login_as, visit, decodes):
    login_as(visit.user)
    for photos in ([(f"big{i}.png", png_header(8000, 8000)) for i in range(10)],  # the probe's post
                   [(f"p{i}.png", png_header(6000, 7000)) for i in range(4)]):  # each fits, together not
        response = _send(client, visit, photos=photos)
        assert response.status_code == 422
        assert "too large" in response.get_data(as_text=True)
        assert "Nothing was sent; your text is still in the box." in response.get_data(as_text=True)
    assert decodes == []  # measured from the headers only
    _nothing_sent()


def test_a_phone_jpeg_is_decoded_in_draft_mode_never_at_full_size(client, login_as, visit, decodes):
    login_as(visit.user)
    assert _send(client, visit, photos=[("IMG_2.JPG", photo_bytes((4000, 3000)))]).status_code == 302
    jpeg_loads = [(w, h) for fmt, w, h in decodes if fmt == "JPEG"]
    assert jpeg_loads and all(w * h <= 4000 * 3000 // 4 for w, h in jpeg_loads), jpeg_loads  # 1/2 scale or less
