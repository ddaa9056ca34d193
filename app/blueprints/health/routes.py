"""200 with each part's status, or 503 naming the part that is down."""

from __future__ import annotations

from flask import jsonify
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
    body = {"status": "ok" if not down else "down", "down": down, **parts}
    return jsonify(body), (503 if down else 200)
