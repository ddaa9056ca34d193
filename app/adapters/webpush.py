"""Web Push transport: VAPID keys, and one encrypted POST to one browser's push service.

pywebpush encrypts the payload with the subscription's own keys (RFC 8291, aes128gcm)
and signs a VAPID JWT (RFC 8292) for the push service's origin. Only known push services
are called over https, and only at public addresses checked when the socket is opened:
a subscription is a URL a browser (or anyone logged in) hands us, and the server must
not be made to post into its own network.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from flask import current_app

log = logging.getLogger(__name__)

GONE = (404, 410)  # the push service no longer knows this subscription


@dataclass(frozen=True)
class PushOutcome:
    delivered: bool
    gone: bool = False  # delete the subscription
    error: str = ""


def push_configured() -> bool:
    cfg = current_app.config
    return bool(cfg.get("VAPID_PUBLIC_KEY") and cfg.get("VAPID_PRIVATE_KEY") and cfg.get("VAPID_SUBJECT"))


@lru_cache(maxsize=4)
def _vapid(private_key: str):
    from py_vapid import Vapid

    return Vapid.from_string(private_key=private_key)


# The push services browsers use (RFC 8030): Chrome/Edge-on-Android (FCM), Firefox (Mozilla
# autopush), Safari (Apple), Edge on Windows (WNS). "*." is any subdomain. PUSH_SERVICE_HOSTS
# in config adds more. Nothing else is ever called: a subscription is a URL anyone logged in
# hands us, and the server must not be made to post into its own network.
PUSH_SERVICE_HOSTS = ("fcm.googleapis.com", "updates.push.services.mozilla.com", "*.push.apple.com",
                      "*.notify.windows.com")
LOOPBACK_NAMES = ("localhost",)


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_loopback: bool = False) -> str:
    """Why the server must not connect to this address ("" when it is a public one).

    IPv6 forms that carry an IPv4 address (mapped ::ffff:a.b.c.d, 6to4, Teredo, NAT64) are
    judged by the IPv4 address inside as well.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return "a link-local address"
        inner = [address.ipv4_mapped, address.sixtofour, address.teredo[1] if address.teredo else None]
        if address in ipaddress.IPv6Network("64:ff9b::/96"):
            inner.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        for embedded in inner:
            if embedded is not None and (reason := address_refusal(embedded, allow_loopback=allow_loopback)):
                return reason
    if address.is_loopback:
        return "" if allow_loopback else "a loopback address"
    for flag, reason in (("is_unspecified", "an unspecified address"), ("is_multicast", "a multicast address"),
                         ("is_link_local", "a link-local address"), ("is_private", "a private address"),
                         ("is_reserved", "a reserved address"), ("is_site_local", "a site-local address")):
        if getattr(address, flag, False):
            return reason
    if not address.is_global:
        return "not a public address"
    return ""


def _host_allowed(host: str, extra_hosts) -> bool:
    for pattern in (*PUSH_SERVICE_HOSTS, *(extra_hosts or ())):
        pattern = pattern.lower().rstrip(".")
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def _loopback_host(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint_refusal(endpoint: str, *, allow_loopback: bool = False, extra_hosts=()) -> str:
    """Why this endpoint may not be called ("" when it may): https on a known push service.

    With allow_loopback (tests and the bench only) a stand-in on loopback, by literal address
    or `localhost`, over http or https. The addresses a name resolves to are checked again
    when the connection is made (`guarded_session`).
    """
    try:
        parts = urlsplit(endpoint)
        raw_host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "not a URL"
    if not raw_host or parts.username or parts.password:
        return "no host, or a user name in the URL"
    host = raw_host.lower()
    if allow_loopback and _loopback_host(host):
        return "" if parts.scheme in ("http", "https") else "not http(s)"
    if parts.scheme != "https":
        return "not https"
    if host.endswith(".") or not _host_allowed(host, extra_hosts):
        return "not a known push service"
    return ""


def endpoint_allowed(endpoint: str, *, allow_loopback: bool = False, extra_hosts=()) -> bool:
    """A known push service over https (or, when allowed for a local stand-in, loopback)."""
    return not endpoint_refusal(endpoint, allow_loopback=allow_loopback, extra_hosts=extra_hosts)


def _guarded_connect(conn, allow_loopback: bool):
    """urllib3's `_new_conn`, but every address the host resolves to is checked first and the
    socket goes to a checked address: no second lookup a DNS answer could change between."""
    import socket

    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
    from urllib3.util import connection

    try:
        infos = socket.getaddrinfo(conn._dns_host, conn.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    addresses = [info[4][0] for info in infos]
    for text in addresses:
        reason = address_refusal(ipaddress.ip_address(text.split("%")[0]), allow_loopback=allow_loopback)
        if "%" in text and not allow_loopback:
            reason = reason or "a scoped address"
        if reason:
            raise NewConnectionError(conn, f"push service host resolves to {reason}: refused")
    if not addresses:
        raise NewConnectionError(conn, "push service host has no address")
    last = None
    for address in dict.fromkeys(addresses):
        try:
            return connection.create_connection((address, conn.port), conn.timeout,
                                                source_address=conn.source_address,
                                                socket_options=conn.socket_options)
        except TimeoutError as exc:
            last = ConnectTimeoutError(conn, f"Connection to {conn.host} timed out")
            last.__cause__ = exc
        except OSError as exc:
            last = NewConnectionError(conn, f"Failed to establish a new connection: {exc}")
    raise last


@lru_cache(maxsize=2)
def guarded_session(allow_loopback: bool = False) -> requests.Session:
    """One pooled session per process (a kept-alive TLS connection per push service instead of
    a handshake per notification) whose connections check every address at connect time."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class GuardedHTTP(HTTPConnection):
        def _new_conn(self):
            return _guarded_connect(self, allow_loopback)

    class GuardedHTTPS(HTTPSConnection):
        def _new_conn(self):
            return _guarded_connect(self, allow_loopback)

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTP

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPS

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}

    session = requests.Session()
    session.trust_env = False  # an environment proxy would connect for us, past the check
    session.mount("http://", GuardedAdapter(max_retries=0))
    session.mount("https://", GuardedAdapter(max_retries=0))
    return session


URGENCIES = ("very-low", "low", "normal", "high")  # RFC 8030 section 5.3


def push_headers(urgency: str, topic: str | None) -> dict[str, str]:
    """RFC 8030 headers: Urgency (how hard the phone should wake), and Topic (a message the push
    service still holds for an offline phone is replaced by the next one with the same Topic;
    at most 32 characters of the URL-safe base64 alphabet)."""
    if urgency not in URGENCIES:
        raise ValueError(f"urgency must be one of {URGENCIES}")
    headers = {"Urgency": urgency}
    if topic is not None:
        if not (0 < len(topic) <= 32 and all(c.isascii() and (c.isalnum() or c in "-_") for c in topic)):
            raise ValueError("a Topic is 1 to 32 characters of A-Z, a-z, 0-9, - and _")
        headers["Topic"] = topic
    return headers


def send_web_push(endpoint: str, p256dh: str, auth: str, payload: dict, *, ttl: int, urgency: str = "normal",
                  topic: str | None = None) -> PushOutcome:
    """Encrypt and POST `payload` (JSON) to one subscription; never raises for the push service.

    `ttl`: seconds the push service keeps it for a phone that is off (0: now or never)."""
    from pywebpush import WebPushException, webpush

    cfg = current_app.config
    allow_loopback = bool(cfg.get("PUSH_ALLOW_LOOPBACK", False))
    refusal = endpoint_refusal(endpoint, allow_loopback=allow_loopback, extra_hosts=cfg.get("PUSH_SERVICE_HOSTS", ()))
    if refusal:
        return PushOutcome(False, gone=True, error=f"endpoint not allowed: {refusal}")
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    try:
        webpush(
            {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data,
            vapid_private_key=_vapid(cfg["VAPID_PRIVATE_KEY"]),
            vapid_claims={"sub": cfg["VAPID_SUBJECT"]},  # a fresh dict: webpush adds aud and exp to it
            ttl=max(0, int(ttl)),
            timeout=cfg.get("PUSH_TIMEOUT_SECONDS", 10),
            headers=push_headers(urgency, topic),
            requests_session=guarded_session(allow_loopback),
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



