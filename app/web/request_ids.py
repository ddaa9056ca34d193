"""Request ids and webhook timings: every request gets an id (the caller's `X-Request-ID` when
it is a plausible one, else a new one), echoed in the response and carried by every log line
written while it runs; each webhook request is counted by route and status and timed.
"""

from __future__ import annotations

import time

from flask import Flask, g, request

from app.observability.logs import current_request_id, request_id_from
from app.observability.metrics import observe_webhook

HEADER = "X-Request-ID"
WEBHOOK_BLUEPRINT = "webhooks"
UNMATCHED_ROUTE = "unmatched"


def _webhook_route() -> str | None:
    """The URL rule of a webhook request (a fixed string), `unmatched` under /webhooks/ with
    no rule, None for any other request."""
    rule = request.url_rule
    if rule is not None:
        return rule.rule if request.blueprint == WEBHOOK_BLUEPRINT else None
    return UNMATCHED_ROUTE if request.path.startswith("/webhooks/") else None


def _record_webhook(status: int) -> None:
    started = g.pop("_webhook_started", None)
    route = g.pop("_webhook_route", None)
    if started is not None and route is not None:
        observe_webhook(route, status, time.perf_counter() - started)


def install_request_ids(app: Flask) -> None:
    """First before_request hook: ids and timing start before any other hook can answer."""

    @app.before_request
    def _start_request() -> None:
        g.request_id = request_id_from(request.headers.get(HEADER))
        g._request_id_token = current_request_id.set(g.request_id)
        route = _webhook_route()
        if route is not None:
            g._webhook_route, g._webhook_started = route, time.perf_counter()

    @app.after_request
    def _finish_request(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers[HEADER] = request_id
        _record_webhook(response.status_code)
        return response

    @app.teardown_request
    def _end_request(exc) -> None:
        if exc is not None:  # an exception no handler turned into a response (testing, debug)
            _record_webhook(500)
        token = g.pop("_request_id_token", None)
        if token is not None:
            try:
                current_request_id.reset(token)
            except ValueError:  # set in another context (a streamed response): it ends with it
                pass
