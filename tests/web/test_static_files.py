"""Static files: versioned URLs, cached for a year, gzip, the security headers."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from flask import url_for

from app.web.static_files import build_static, hashed_name

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"


def test_pages_link_versioned_static_urls_that_are_cached_for_a_year_and_gzipped(app, client):
    page = client.get("/login").get_data(as_text=True)
    css = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page).group(1)
    js = re.search(r'src="(/static/js/app\.[0-9a-f]{12}\.js)"', page).group(1)
    assert re.search(r'src="/static/vendor/htmx\.[0-9a-f]{12}\.min\.js"', page)

    plain = client.get(css)
    assert plain.status_code == 200
    assert plain.headers["Cache-Control"] == "max-age=315360000, public, immutable"
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert plain.get_data() == (STATIC / "css/app.css").read_bytes()
    plain.close()

    zipped = client.get(js, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.get_data()) == (STATIC / "js/app.js").read_bytes()
    zipped.close()


def test_a_changed_file_gets_a_new_url_and_the_plain_name_still_answers_briefly_cached(app, client):
    first = hashed_name("css/app.css", b"a{}")
    assert first != hashed_name("css/app.css", b"b{}")
    assert re.fullmatch(r"css/app\.[0-9a-f]{12}\.css", first)
    plain = client.get("/static/css/app.css")  # for anything not built with url_for
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "max-age=60, public"
    plain.close()
    with app.test_request_context():
        assert url_for("static", filename="css/app.css") != "/static/css/app.css"


def test_build_is_written_once_per_content_with_gzip_only_where_it_helps(tmp_path):
    src, out = tmp_path / "static", tmp_path / "build"
    (src / "css").mkdir(parents=True)
    (src / "css/site.css").write_text("body { color: red; }\n" * 50)
    (src / "logo.png").write_bytes(b"\x89PNG" + bytes(200))
    manifest = build_static(src, out)
    css = out / manifest["css/site.css"]
    assert css.read_text() == (src / "css/site.css").read_text()
    assert gzip.decompress((out / (manifest["css/site.css"] + ".gz")).read_bytes()) == css.read_bytes()
    assert not (out / (manifest["logo.png"] + ".gz")).exists()  # already compressed formats are left
    mtime = css.stat().st_mtime_ns
    assert build_static(src, out) == manifest and css.stat().st_mtime_ns == mtime
