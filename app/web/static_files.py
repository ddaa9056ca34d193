"""Static files: content-hashed URLs, a year of caching, gzip, served by WhiteNoise.

At start the app copies each file of app/static to STATIC_BUILD_DIR under a name carrying a
hash of its content (css/app.3f2a9c1b7e4d.css) with a gzip variant beside it, and
`url_for('static', ...)` returns that name. A changed file gets a new URL, so browsers may
keep every versioned URL for a year without asking again. Files are written once per
content (several processes starting at once write the same bytes; each file appears
atomically, after its compressed variant).

In development the files are served as they are on disk, unversioned and re-read on change.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from flask import Flask

HASH_LENGTH = 12
_COMPRESSED = (".gz", ".br")


def hashed_name(relative: str, content: bytes) -> str:
    """'css/app.css' → 'css/app.<hash>.css'."""
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    folder, _, name = relative.rpartition("/")
    stem, dot, ext = name.partition(".")
    versioned = f"{stem}.{digest}{dot}{ext}"
    return f"{folder}/{versioned}" if folder else versioned


def _write_atomically(dest: Path, data: bytes) -> None:
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, dest)


def build_static(static_folder: Path, build_dir: Path) -> dict[str, str]:
    """Copy every static file to its hashed name (with .gz); return {name: hashed name}."""
    from whitenoise.compress import Compressor

    compressor = Compressor(use_brotli=False, quiet=True)
    manifest: dict[str, str] = {}
    for path in sorted(static_folder.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or path.suffix in _COMPRESSED:
            continue
        relative = path.relative_to(static_folder).as_posix()
        data = path.read_bytes()
        versioned = hashed_name(relative, data)
        manifest[relative] = versioned
        dest = build_dir / versioned
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        if compressor.should_compress(dest.name):
            gz = compressor.compress_gzip(data)
            if len(gz) <= 0.95 * len(data):
                _write_atomically(dest.with_name(dest.name + ".gz"), gz)
        _write_atomically(dest, data)
    return manifest


def serve_static_files(app: Flask) -> None:
    from whitenoise import WhiteNoise

    from app.web.headers import static_file_headers

    static_folder = Path(app.static_folder)
    extra = static_file_headers(production=app.config["APP_ENV"] == "production")

    def add_headers(headers, path, url):
        for name, value in extra.items():
            headers[name] = value

    if app.config["APP_ENV"] == "development":
        app.wsgi_app = WhiteNoise(app.wsgi_app, root=static_folder, prefix="static/", autorefresh=True,
                                  max_age=0, add_headers_function=add_headers)
        return

    build_dir = Path(app.config["STATIC_BUILD_DIR"]).resolve()
    manifest = build_static(static_folder, build_dir)
    versioned = re.compile(rf"\.[0-9a-f]{{{HASH_LENGTH}}}(\.|$)")
    in_build = str(build_dir) + os.sep

    def immutable(path: str, url: str) -> bool:
        return path.startswith(in_build) and bool(versioned.search(os.path.basename(path)))

    wn = WhiteNoise(app.wsgi_app, prefix="static/", max_age=60, add_headers_function=add_headers,
                    immutable_file_test=immutable)
    # Only the current files' hashed names (not every old build left in the folder), and the
    # plain names as a fallback for anything that does not go through url_for.
    for versioned_name in manifest.values():
        wn.add_file_to_dictionary(f"/static/{versioned_name}", str(build_dir / versioned_name))
    wn.add_files(str(static_folder), prefix="static/")
    app.wsgi_app = wn

    @app.url_defaults
    def _versioned_static_url(endpoint, values):
        if endpoint == "static" and values.get("filename") in manifest:
            values["filename"] = manifest[values["filename"]]
