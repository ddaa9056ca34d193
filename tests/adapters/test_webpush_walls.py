"""Push endpoints cannot reach inside: an allow-list of push services, every address checked at connect time.

The probe's reproductions: `https://2130706433:8108/x`, `https://127.1/…`, `https://0/…`,
`https://0x7f000001/…`, `https://localhost.:…` and names that resolve to private addresses
were accepted, and the worker then connected to loopback ports.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from app.adapters.webpush import address_refusal, endpoint_refusal, guarded_session, send_web_push

PROBE_ENDPOINTS = [
    "https://2130706433:8108/x",
    "https://127.1/x",
    "https://0/x",
    "https://0x7f000001/x",
    "https://localhost.:8108/x",
    "https://localhost/x",
    "https://127.0.0.1.nip.io/x",
    "https://[::1]/x",
    "https://[::ffff:127.0.0.1]/x",
    "https://10.0.0.5/x",
    "https://169.254.169.254/latest/meta-data",
    "https://push.example.com/x",  # public, but not a push service
    "https://fcm.googleapis.com.evil.example/x",
    "https://evilfcm.googleapis.com/x",
    "https://push.apple.com.evil.example/x",
    "http://fcm.googleapis.com/fcm/send/x",  # not https
    "https://fcm.googleapis.com./fcm/send/x",  # trailing dot: not the name on the list
]


@pytest.mark.parametrize("endpoint", PROBE_ENDPOINTS)
def test_the_probes_endpoints_are_refused(endpoint):
    assert endpoint_refusal(endpoint)
    assert endpoint_refusal(endpoint, allow_loopback=False, extra_hosts=("push.test",))


@pytest.mark.parametrize("endpoint", [
    "https://fcm.googleapis.com/fcm/send/abc",
    "https://updates.push.services.mozilla.com/wpush/v2/abc",
    "https://web.push.apple.com/QGx",
    "https://wns2-by3p.notify.windows.com/w/?token=abc",
])
def test_the_known_push_services_are_accepted(endpoint):
    assert endpoint_refusal(endpoint) == ""


def test_more_push_services_come_from_config():
    assert endpoint_refusal("https://push.example.com/x", extra_hosts=("push.example.com",)) == ""
    assert endpoint_refusal("https://a.push.example.com/x", extra_hosts=("*.push.example.com",)) == ""
    assert endpoint_refusal("https://push.example.com/x", extra_hosts=("*.push.example.com",))


@pytest.mark.parametrize("text", [
    "127.0.0.1", "127.255.255.254", "0.0.0.0", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::", "::1", "fe80::1", "fc00::1", "fd12::1",
    "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::", "2002:c0a8:101::1", "64:ff9b::7f00:1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo whose client is 127.0.0.1
])
def test_private_addresses_in_every_family_are_refused(text):
    assert address_refusal(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", ["142.250.64.74", "2607:f8b0:4004:c1b::5f"])
def test_public_addresses_pass(text):
    assert address_refusal(ipaddress.ip_address(text)) == ""


@pytest.fixture
def local_service():
    """A plain HTTP server on loopback that counts the connections it answers."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def push_name_resolves_to_loopback(monkeypatch):
    """DNS says an allowed push service host is 127.0.0.1 (a rebinding, or a name like 127.0.0.1.nip.io)."""
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host == "push.test":
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_a_name_that_resolves_to_loopback_is_never_connected(local_service, push_name_resolves_to_loopback):
    port, hits = local_service
    with pytest.raises(requests.ConnectionError, match="loopback"):
        guarded_session(False).post(f"http://push.test:{port}/x", data=b"{}", timeout=5)
    assert hits == []
    # The control: the same request reaches the stand-in when loopback is allowed (tests only).
    assert guarded_session(True).post(f"http://push.test:{port}/x", data=b"{}", timeout=5).status_code == 201
    assert hits == ["/x"]


def test_send_web_push_to_an_allowed_host_on_loopback_delivers_nothing(app, local_service,
                                                                        push_name_resolves_to_loopback):
    from tests.support.push import PUBLIC, SUBJECT, VAPID_CONFIG
    from tests.support.push_stand_in import PushStandIn

    port, hits = local_service
    app.config.update(**VAPID_CONFIG, PUSH_SERVICE_HOSTS=("push.test",), PUSH_ALLOW_LOOPBACK=False)

    with PushStandIn(PUBLIC, SUBJECT) as service:
        keys = service.subscribe()["keys"]
    outcome = send_web_push(f"https://push.test:{port}/x", keys["p256dh"], keys["auth"], {"title": "t"}, ttl=60)
    assert not outcome.delivered and hits == []


def test_push_deliveries_have_their_own_queue_after_payments_with_a_short_timeout():
    from app.jobs.specs import JOBS, QUEUE_NAMES

    spec = JOBS.deliver_notification
    assert spec.queue == "push" and spec.queue != JOBS.apply_stripe_event.queue
    assert QUEUE_NAMES.index("push") > QUEUE_NAMES.index("stripe")
    assert spec.timeout <= 45 and spec.job_id is not None
