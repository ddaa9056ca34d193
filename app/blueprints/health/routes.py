"""200 or 503 with the status; each part's details (queue lengths, backends) only for operators.

The public answer is `{"status": "ok" | "down"}`: a load balancer needs no more, and queue
lengths tell an outsider how busy the business is. An operator's session or the bearer
METRICS_TOKEN gets the parts, naming the one that is down.
"""

from __future__ import annotations

import hmac

from flask import current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import text

from app.blueprints.health import bp
from app.extensions import db
from app.jobs.queue import get_queue


def _database_health() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to talk to the database means "down"
        db.session.rollback()
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "backend": db.engine.dialect.name}


@bp.route("/healthz")
def healthz():
    parts = {"database": _database_health(), "queue": get_queue().health()}
    down = [name for name, status in parts.items() if not status["ok"]]
    status = "ok" if not down else "down"
    body = {"status": status, "down": down, **parts} if _may_see_details() else {"status": status}
    return jsonify(body), (503 if down else 200)


def _may_see_details() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode("utf-8", "surrogatepass"), f"Bearer {token}".encode()):
        return True
    return bool(current_user.is_authenticated and getattr(current_user, "role", None) == "operator")
