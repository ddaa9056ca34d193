"""rq-dashboard at /admin/rq, for operators only (it shows every org's jobs).

Every org user, owners included, gets 404. Requests that change state must be POSTs
from this site's own pages (Origin, or Referer when a browser sends no Origin): the
dashboard's blueprint carries no CSRF token of its own, and one of its routes
(`/requeue/<queue>`) also accepts GET.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_hooks_added = False


def _operators_only():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    if current_user.role != "operator":
        abort(404)
    return None


def _state_changing(rule) -> bool:
    return rule is not None and "POST" in (rule.methods or ())


def _own_origin() -> str:
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        parts = urlsplit(base)
        return f"{parts.scheme}://{parts.netloc}"
    return request.host_url.rstrip("/")


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if not origin:
        referer = urlsplit(request.headers.get("Referer", ""))
        origin = f"{referer.scheme}://{referer.netloc}" if referer.netloc else ""
    return bool(origin) and origin.rstrip("/") in (_own_origin(), request.host_url.rstrip("/"))


def guard_rq_dashboard():
    """Operators only; a state change only by a same-origin POST.

    Runs before rq-dashboard's own hook (which picks the Redis instance from the URL and
    raises on a number it does not have): nobody learns anything before logging in, and an
    instance number the dashboard does not have is a 404.
    """
    refused = _operators_only()
    if refused is not None:
        return refused
    instance = (request.view_args or {}).get("instance_number")
    if instance is not None and instance >= len(current_app.config.get("RQ_DASHBOARD_REDIS_URL") or ()):
        abort(404)
    if _state_changing(request.url_rule) and request.method != "POST":
        abort(405)
    if request.method not in SAFE_METHODS and not _same_origin():
        abort(403, "Cross-site request refused.")
    return None


def register_rq_dashboard(app: Flask) -> None:
    """Mount the dashboard; without Redis it answers 404 (there is nothing to show)."""
    import rq_dashboard

    from app.extensions import csrf

    global _hooks_added
    # rq-dashboard's blueprint is a module global: add the auth hook once per process, first
    # among its hooks (its own instance-picking hook was added at import).
    if not _hooks_added:
        from rq.serializers import JSONSerializer

        rq_dashboard.blueprint.before_request_funcs.setdefault(None, []).insert(0, guard_rq_dashboard)
        # Our jobs are JSON (app.jobs.queue): the dashboard would unpickle them and fail.
        rq_dashboard.web.config.serializer = JSONSerializer
        _hooks_added = True
    if not app.config["REDIS_URL"]:
        @app.route("/admin/rq", defaults={"rest": ""})
        @app.route("/admin/rq/<path:rest>")
        def rq_dashboard_unavailable(rest: str):
            refused = _operators_only()
            if refused is not None:
                return refused
            abort(404, "The RQ dashboard needs REDIS_URL; the embedded queue runs jobs in-process.")
        return
    for key in dir(rq_dashboard.default_settings):
        if key.isupper():
            app.config.setdefault(key, getattr(rq_dashboard.default_settings, key))
    app.config["RQ_DASHBOARD_REDIS_URL"] = app.config["REDIS_URL"]
    rq_dashboard.web.setup_rq_connection(app)
    # Its own POSTs carry no Flask-WTF token; guard_rq_dashboard checks their origin instead.
    csrf.exempt(rq_dashboard.blueprint)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/admin/rq")
