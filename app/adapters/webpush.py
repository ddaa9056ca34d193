"""Web Push transport: VAPID keys, and one encrypted POST to one browser's push service.

pywebpush encrypts the payload with the subscription's own keys (RFC 8291, aes128gcm)
and signs a VAPID JWT (RFC 8292) for the push service's origin. Only public https
endpoints are called: a subscription is a URL a browser (or anyone logged in) hands
us, and the server must not be made to post into its own network.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app

log = logging.getLogger(__name__)

GONE = (404, 410)  # the push service no longer knows this subscription


@dataclass(frozen=True)
class PushOutcome:
    delivered: bool
    gone: bool = False  # delete the subscription
    error: str = ""


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


def push_configured() -> bool:
    cfg = current_app.config
    return bool(cfg.get("VAPID_PUBLIC_KEY") and cfg.get("VAPID_PRIVATE_KEY") and cfg.get("VAPID_SUBJECT"))


@lru_cache(maxsize=4)
def _vapid(private_key: str):
    from py_vapid import Vapid

    return Vapid.from_string(private_key=private_key)


@lru_cache(maxsize=1)
def _session() -> requests.Session:
    # One pooled session per process: the same push service (FCM, Mozilla, Apple) over
    # one kept-alive TLS connection instead of a handshake per notification.
    return requests.Session()


def endpoint_allowed(endpoint: str, *, allow_loopback: bool = False) -> bool:
    """A public https URL (or, when allowed for a local stand-in, http(s) on loopback)."""
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    if not host or parts.username or parts.password:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    loopback = host == "localhost" or (address is not None and address.is_loopback)
    if loopback:
        return allow_loopback and parts.scheme in ("http", "https")
    if parts.scheme != "https" or host.endswith((".local", ".internal", ".localhost")):
        return False
    return address is None or address.is_global


def send_web_push(endpoint: str, p256dh: str, auth: str, payload: dict, *, ttl: int) -> PushOutcome:
    """Encrypt and POST `payload` (JSON) to one subscription; never raises for the push service."""
    from pywebpush import WebPushException, webpush

    cfg = current_app.config
    if not endpoint_allowed(endpoint, allow_loopback=cfg.get("PUSH_ALLOW_LOOPBACK", False)):
        return PushOutcome(False, gone=True, error="endpoint not allowed")
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    try:
        webpush(
            {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data,
            vapid_private_key=_vapid(cfg["VAPID_PRIVATE_KEY"]),
            vapid_claims={"sub": cfg["VAPID_SUBJECT"]},  # a fresh dict: webpush adds aud and exp to it
            ttl=ttl,
            timeout=cfg.get("PUSH_TIMEOUT_SECONDS", 10),
            headers={"Urgency": "high"},
            requests_session=_session(),
        )
    except WebPushException as exc:
        status = exc.status_code
        if status in GONE:
            return PushOutcome(False, gone=True, error=f"push service answered {status}")
        return PushOutcome(False, error=f"push service answered {status or 'nothing'}")
    except (requests.RequestException, ValueError) as exc:
        # ValueError: keys that do not decode; treat the subscription as unusable.
        if isinstance(exc, ValueError):
            return PushOutcome(False, gone=True, error="invalid subscription keys")
        log.warning("push to %s failed: %s", urlsplit(endpoint).hostname, type(exc).__name__)
        return PushOutcome(False, error=type(exc).__name__)
    return PushOutcome(True)



