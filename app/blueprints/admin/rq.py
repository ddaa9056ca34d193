"""rq-dashboard at /admin/rq, for owners and staff only."""

from __future__ import annotations

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

_hooks_added = False


def _owner_or_staff_only():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    if current_user.role not in ("owner", "staff"):
        abort(404)
    return None


def register_rq_dashboard(app: Flask) -> None:
    """Mount the dashboard; without Redis it answers 404 (there is nothing to show)."""
    import rq_dashboard

    from app.extensions import csrf

    global _hooks_added
    # rq-dashboard's blueprint is a module global: add the auth hook once per process.
    if not _hooks_added:
        rq_dashboard.blueprint.before_request(_owner_or_staff_only)
        _hooks_added = True
    if not app.config["REDIS_URL"]:
        @app.route("/admin/rq", defaults={"rest": ""})
        @app.route("/admin/rq/<path:rest>")
        def rq_dashboard_unavailable(rest: str):
            redirect_or_none = _owner_or_staff_only()
            if redirect_or_none is not None:
                return redirect_or_none
            abort(404, "The RQ dashboard needs REDIS_URL; the embedded queue runs jobs in-process.")
        return
    for key in dir(rq_dashboard.default_settings):
        if key.isupper():
            app.config.setdefault(key, getattr(rq_dashboard.default_settings, key))
    app.config["RQ_DASHBOARD_REDIS_URL"] = app.config["REDIS_URL"]
    rq_dashboard.web.setup_rq_connection(app)
    # Its own POSTs (requeue, delete) carry no Flask-WTF token; the hook above guards them.
    csrf.exempt(rq_dashboard.blueprint)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/admin/rq")
