"""VAPID key pairs (RFC 8292): made here, and kept in instance/ for the embedded default.

`scripts/run` starts with no environment at all; so that a new sitter gets push notifications
from the first minute, development generates one pair on first start and keeps it in
`instance/vapid.json` (mode 0600, created exclusively: two processes starting together agree on
one pair). Production never does this: its keys come from the environment (app.config).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

KEY_FILE = "vapid.json"
# The push services need a contact; the embedded default has no public address to give.
EMBEDDED_SUBJECT = "mailto:webpush@localhost"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def generate_vapid_keys() -> tuple[str, str]:
    """A new P-256 pair as the browser and pywebpush want them: (public, private), base64url.

    Public: the uncompressed point (the page's applicationServerKey). Private: the raw
    32-byte scalar (VAPID_PRIVATE_KEY).
    """
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return _b64url(public), _b64url(private)


def _read(path: Path) -> tuple[str, str]:
    data = json.loads(path.read_text())
    public, private = data["public_key"], data["private_key"]
    if not (isinstance(public, str) and isinstance(private, str) and public and private):
        raise ValueError(f"{path} does not hold a VAPID key pair")
    return public, private


def instance_vapid_keys(instance_path: str) -> tuple[str, str]:
    """The pair kept in instance/vapid.json, made (once, mode 0600) when the file is missing."""
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / KEY_FILE
    if path.exists():
        return _read(path)
    public, private = generate_vapid_keys()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _read(path)
    with os.fdopen(fd, "w") as handle:
        json.dump({"public_key": public, "private_key": private}, handle)
    return public, private
