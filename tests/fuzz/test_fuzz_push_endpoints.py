"""Property tests: no spelling of a loopback or private address gets a push endpoint (or a socket) in.

Every IPv4 address of 127/8, 10/8, 172.16/12, 192.168/16, 169.254/16, 100.64/10 and 0/8, written
as dotted quads, short forms (127.1, 10.1), one decimal, hex or octal number, or inside IPv6
(mapped, compatible, 6to4, NAT64); every IPv6 loopback, unique-local and link-local address in
compressed, expanded and bracketed forms. Two walls are checked: the endpoint check (what is
stored) and the connection guard (what the worker connects to, even for a host on the allow-list).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from app.adapters.webpush import address_refusal, endpoint_refusal, guarded_session
from tests.fuzz.conftest import FUZZ_SETTINGS

INSIDE_V4 = ["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10",
             "0.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4"]
INSIDE_V6 = ["::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "::/128"]


def _in(network: str):
    net = ipaddress.ip_network(network)
    return st.integers(int(net.network_address), int(net.broadcast_address)).map(
        lambda n: ipaddress.ip_address(n) if net.version == 4 else ipaddress.IPv6Address(n))


inside_v4 = st.one_of(*[_in(n) for n in INSIDE_V4])
inside_v6 = st.one_of(*[_in(n) for n in INSIDE_V6])


def v4_spellings(address: ipaddress.IPv4Address) -> list[str]:
    """Ways getaddrinfo (inet_aton) and URL parsers accept the same IPv4 address."""
    n, (a, b, c, d) = int(address), address.packed
    return [str(address), str(n), hex(n), f"0x{n:08X}", "0" + oct(n)[2:], f"{a}.{(b << 16) | (c << 8) | d}",
            f"{a}.{b}.{(c << 8) | d}", f"0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}", f"0{a:o}.0{b:o}.0{c:o}.0{d:o}",
            f"[::ffff:{address}]", f"[::{address}]", f"[64:ff9b::{address}]",
            f"[2002:{a:02x}{b:02x}:{c:02x}{d:02x}::1]"]


def v6_spellings(address: ipaddress.IPv6Address) -> list[str]:
    return [f"[{address.compressed}]", f"[{address.exploded}]", f"[{address.exploded.upper()}]"]


@given(inside_v4)
@FUZZ_SETTINGS
def test_no_ipv4_spelling_is_an_accepted_endpoint(address):
    for host in v4_spellings(address):
        for scheme in ("https", "http"):
            endpoint = f"{scheme}://{host}:8108/push"
            assert endpoint_refusal(endpoint), endpoint
            assert endpoint_refusal(endpoint, extra_hosts=("*.push.example.com",)), endpoint


@given(inside_v6)
@FUZZ_SETTINGS
def test_no_ipv6_spelling_is_an_accepted_endpoint(address):
    for host in v6_spellings(address):
        assert endpoint_refusal(f"https://{host}/push"), host
    assert address_refusal(address)


@given(inside_v4)
@FUZZ_SETTINGS
def test_every_inside_ipv4_address_is_refused_at_connect_time_in_every_ipv6_form(address):
    assert address_refusal(address)
    for host in v4_spellings(address)[-4:]:
        assert address_refusal(ipaddress.IPv6Address(host.strip("[]"))), host


@pytest.fixture(scope="module")
def loopback_service():
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


@given(st.integers(0x7F000000, 0x7FFFFFFF).map(ipaddress.IPv4Address), st.integers(0, 12))
@FUZZ_SETTINGS
def test_the_connection_guard_never_opens_a_socket_to_loopback(loopback_service, address, form):
    """Whatever the host's spelling resolves to in 127/8, the guard refuses before connecting."""
    port, hits = loopback_service
    spelling = v4_spellings(address)[form]
    if spelling.startswith("["):
        spelling = "127.0.0.1"  # the IPv6 forms have no route to the stand-in; checked above
    try:
        socket.getaddrinfo(spelling, port)
    except OSError:
        return  # this resolver does not read that spelling: nothing to connect to either
    before = len(hits)
    with pytest.raises(requests.ConnectionError, match="resolves to"):
        guarded_session(False).post(f"http://{spelling}:{port}/x", data=b"{}", timeout=5)
    assert len(hits) == before
