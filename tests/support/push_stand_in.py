"""A local Web Push service on loopback: receives what pywebpush sends, checks it, decrypts it.

It does what a real push service (FCM, Mozilla autopush) does with a request, and what the
browser then does with the payload: verifies the VAPID Authorization header (RFC 8292: an
ES256 JWT for this origin, signed by the key in `k`), and decrypts the body with the
subscription's own private key and auth secret (RFC 8291, aes128gcm) via http_ece.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserKeys:
    """What a browser makes when it subscribes: a P-256 key pair and a 16-byte auth secret."""

    private: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(self.private.public_key().public_bytes(serialization.Encoding.X962,
                                                             serialization.PublicFormat.UncompressedPoint))


@dataclass
class Received:
    token: str
    headers: dict  # names in lower case
    body: bytes
    payload: dict | None = None  # decrypted JSON
    vapid_claims: dict | None = None
    vapid_key: str | None = None
    problems: list[str] = field(default_factory=list)


class PushStandIn:
    """`subscribe()` gives a PushSubscription JSON for a new "browser"; `received` holds what arrived."""

    def __init__(self, vapid_public_key: str, subject: str):
        self.vapid_public_key = vapid_public_key
        self.subject = subject
        self.browsers: dict[str, BrowserKeys] = {}
        self.answers: dict[str, int] = {}  # token → status to answer (default 201)
        self.received: list[Received] = []
        self._arrived = threading.Condition()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                token = self.path.rsplit("/", 1)[-1]
                status = stand_in.answers.get(token, 201)
                stand_in._record(token, {k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def subscribe(self, answer: int = 201) -> dict:
        token = b64url(os.urandom(12))
        keys = self.browsers[token] = BrowserKeys()
        self.answers[token] = answer
        return {"endpoint": f"{self.origin}/push/{token}", "expirationTime": None,
                "keys": {"p256dh": keys.p256dh, "auth": b64url(keys.auth)}}

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Block until `count` requests arrived (pushes are sent synchronously, so usually at once)."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)
        return list(self.received)

    # ---------------------------------------------------------------- checks

    def _record(self, token: str, headers: dict, body: bytes) -> None:
        item = Received(token, headers, body)
        keys = self.browsers.get(token)
        if keys is None:
            item.problems.append("unknown subscription")
        else:
            self._check_vapid(item)
            self._decrypt(item, keys)
        with self._arrived:
            self.received.append(item)
            self._arrived.notify_all()

    def _check_vapid(self, item: Received) -> None:
        header = item.headers.get("authorization", "")
        if not header.startswith("vapid "):
            item.problems.append(f"Authorization is not vapid: {header[:20]!r}")
            return
        params = dict(part.strip().split("=", 1) for part in header[len("vapid "):].split(","))
        token, key = params.get("t", ""), params.get("k", "")
        item.vapid_key = key
        if key != self.vapid_public_key:
            item.problems.append("VAPID key is not the server's public key")
        try:
            signing_input, signature = token.rsplit(".", 1)
            raw = unb64url(signature)
            der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
            public.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
            header_json, claims_json = (json.loads(unb64url(p)) for p in signing_input.split("."))
        except (ValueError, InvalidSignature) as exc:
            item.problems.append(f"VAPID JWT does not verify: {type(exc).__name__}")
            return
        item.vapid_claims = claims_json
        if header_json.get("alg") != "ES256":
            item.problems.append("VAPID JWT is not ES256")
        if claims_json.get("aud") != self.origin:
            item.problems.append(f"VAPID aud {claims_json.get('aud')!r} is not {self.origin}")
        if claims_json.get("sub") != self.subject:
            item.problems.append("VAPID sub is not the configured subject")
        if not time.time() < int(claims_json.get("exp", 0)) <= time.time() + 24 * 3600:
            item.problems.append("VAPID exp is not within 24 hours")

    def _decrypt(self, item: Received, keys: BrowserKeys) -> None:
        if item.headers.get("content-encoding") != "aes128gcm":
            item.problems.append(f"Content-Encoding is {item.headers.get('Content-Encoding')!r}")
            return
        try:
            plain = http_ece.decrypt(item.body, private_key=keys.private, auth_secret=keys.auth, version="aes128gcm")
            item.payload = json.loads(plain)
        except Exception as exc:  # a push service would drop it; the test reports why
            item.problems.append(f"payload does not decrypt: {type(exc).__name__}: {exc}")
