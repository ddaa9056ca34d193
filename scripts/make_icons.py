"""Draw the app icons (app/static/icons/icon-192.png, icon-512.png): a white paw on the brand blue.

Pure Python (zlib + struct) so it needs nothing installed; run it again to change the look.
The paw stays inside the central 80 % "safe zone", so the icons also work as maskable icons.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

BLUE = (0x24, 0x58, 0xD3)
WHITE = (0xFF, 0xFF, 0xFF)
# Pads as (x, y, radius) in a 0..1 square: one palm pad and four toes.
PADS = [(0.50, 0.60, 0.17), (0.30, 0.40, 0.075), (0.42, 0.31, 0.075), (0.58, 0.31, 0.075), (0.70, 0.40, 0.075)]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _pixel(x: float, y: float) -> tuple[int, int, int]:
    for cx, cy, r in PADS:
        if (x - cx) ** 2 + ((y - cy) * (1.15 if r > 0.1 else 1)) ** 2 <= r * r:
            return WHITE
    return BLUE


def icon_png(size: int) -> bytes:
    rows = bytearray()
    for j in range(size):
        rows.append(0)  # filter: none
        for i in range(size):
            rows.extend(_pixel((i + 0.5) / size, (j + 0.5) / size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + \
        _chunk(b"IEND", b"")


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "app" / "static" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        (out / f"icon-{size}.png").write_bytes(icon_png(size))


if __name__ == "__main__":
    main()
