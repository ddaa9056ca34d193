"""Photos for the media tests, and a loopback stand-in for Twilio's media URLs.

The stand-in is a real HTTP server on 127.0.0.1: the API path answers only with basic auth
(account SID and token) and redirects to a "storage" URL on another host name (localhost),
as Twilio redirects to its media storage. Every request is recorded.
"""

from __future__ import annotations

import base64
import io
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

SID = "AC" + "0" * 32  # tests/conftest.py build_app
TOKEN = "twilio-test-token"
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo_bytes(size=(800, 600), *, fmt="JPEG", gps=True, orientation: int | None = None,
                color=(180, 120, 60)) -> bytes:
    """A photo as a phone saves it: EXIF with a GPS position (and an orientation) by default."""
    image = Image.new("RGB", size, color)
    image.paste((20, 20, 200), (0, 0, size[0] // 4, size[1] // 8))  # a mark: orientation is visible
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (38.0, 53.0, 23.0), 3: "W", 4: (77.0, 2.0, 11.0)}
    if orientation:
        exif[ORIENTATION] = orientation
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes(), quality=92)
    return out.getvalue()


def has_gps(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        return bool(image.getexif().get_ifd(GPS_IFD)) or b"GPS" in image.info.get("exif", b"")


@dataclass
class Seen:
    host: str
    path: str
    authorization: str | None


class TwilioMediaServer:
    """`origin` is the API origin to configure; `media_url(name)` a MediaUrl Twilio would send."""

    def __init__(self):
        self.files: dict[str, tuple[bytes, str]] = {}
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                server.seen.append(Seen(self.headers.get("Host", ""), self.path, self.headers.get("Authorization")))
                name = self.path.rsplit("/", 1)[-1]
                if self.path.startswith(f"/2010-04-01/Accounts/{SID}/Messages/"):
                    expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
                    if self.headers.get("Authorization") != expected:
                        return self._answer(401, b"unauthorised", "text/plain")
                    self.send_response(307)
                    self.send_header("Location", f"http://localhost:{server.port}/storage/{name}")
                    self.send_header("Content-Length", "0")
                    return self.end_headers()
                if self.path.startswith("/storage/") and name in server.files:
                    data, content_type = server.files[name]
                    return self._answer(200, data, content_type)
                return self._answer(404, b"not found", "text/plain")

            def _answer(self, status, body, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def media_url(self, name: str, data: bytes, content_type: str = "image/jpeg") -> str:
        self.files[name] = (data, content_type)
        return f"{self.origin}/2010-04-01/Accounts/{SID}/Messages/MM{'1' * 32}/Media/{name}"
