"""GET /metrics: Prometheus' text format, for the bearer of METRICS_TOKEN only.

Anyone else gets the same 404 as for a page that does not exist, whether METRICS_TOKEN is
unset, the token is wrong or missing, or they are logged in (owners included): the series
are the whole deployment's, and their existence is nobody else's business.
"""

from __future__ import annotations

import hmac

from flask import Response, abort, current_app, request

from app.blueprints.health import bp
from app.observability.metrics import render_metrics
from app.services.ops.queue_depth import QueueDepthCollector


def _bearer_token() -> str | None:
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def require_metrics_token() -> None:
    expected = current_app.config.get("METRICS_TOKEN")
    given = _bearer_token()
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        abort(404)


@bp.route("/metrics")
def metrics():
    require_metrics_token()
    body, content_type = render_metrics(current_app.config.get("PROMETHEUS_MULTIPROC_DIR"),
                                        [QueueDepthCollector()])
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response
