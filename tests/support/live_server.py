"""An app served over real HTTP from a thread of the test process (werkzeug, threaded: one thread a
request, as the embedded default serves)."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from werkzeug.serving import make_server


class _InFlight:
    """WSGI middleware counting the requests inside the app, so the block can end after them."""

    def __init__(self, app):
        self.app = app
        self.count = 0
        self.idle = threading.Condition()

    def __call__(self, environ, start_response):
        with self.idle:
            self.count += 1
        try:
            return self.app(environ, start_response)  # Flask releases its session before returning
        finally:
            with self.idle:
                self.count -= 1
                self.idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self.idle:
            return self.idle.wait_for(lambda: self.count == 0, timeout)


@contextmanager
def serving(app, drain_seconds: float = 30):
    """Serve `app` on a free local port for the block; yields its base URL. On the way out, the
    requests still inside the app (a browser gave up on them: a test cut the network or dropped
    the answer) are waited for, so none still holds a pooled connection when the test disposes
    of the app's engine (it would be closed by the garbage collector later, in another test,
    as a ResourceWarning)."""
    in_flight = _InFlight(app)
    server = make_server("127.0.0.1", 0, in_flight, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        assert in_flight.wait_idle(drain_seconds), f"{in_flight.count} request(s) still running"


class Hold:
    """One request held at the server's door: `arrived` is set when it comes, `release()` lets it in."""

    def __init__(self, method: str, path_end: str):
        self.method, self.path_end = method, path_end
        self.arrived = threading.Event()
        self._released = threading.Event()

    def matches(self, environ) -> bool:
        return environ["REQUEST_METHOD"] == self.method and environ["PATH_INFO"].endswith(self.path_end)

    def release(self) -> None:
        self._released.set()

    def wait_released(self, timeout: float) -> None:
        self._released.wait(timeout)


class RequestGate:
    """WSGI middleware: holds the next request that matches until the test releases it (a
    server-side event a test can wait on, where a browser-side route would miss requests a
    service worker makes, and a poll would guess at timing)."""

    def __init__(self, app, bound_seconds: float):
        self.app = app
        self.bound_seconds = bound_seconds
        self._holds: list[Hold] = []
        self._lock = threading.Lock()

    def hold(self, method: str, path_end: str) -> Hold:
        hold = Hold(method, path_end)
        with self._lock:
            self._holds.append(hold)
        return hold

    def release_all(self) -> None:
        with self._lock:
            holds, self._holds = self._holds, []
        for hold in holds:
            hold.release()

    def __call__(self, environ, start_response):
        with self._lock:
            hold = next((h for h in self._holds if h.matches(environ)), None)
            if hold is not None:
                self._holds.remove(hold)
        if hold is not None:
            hold.arrived.set()
            hold.wait_released(self.bound_seconds)  # bounded: a failed test never leaves it hanging
        return self.app(environ, start_response)
