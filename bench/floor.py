"""The floor: what the bench's hot paths are measured against, built with none of the app around them.

- `build_floor_app()` (`gunicorn 'bench.floor:build_floor_app()'`): a minimal Flask app, outside
  create_app and its hooks (no request ids, sessions, login, scoping, input guard, security headers, metrics), that
  verifies the Stripe signature exactly as the webhook does and inserts one row.
- `one_row_job(key)`: an RQ job that writes one row and commits, run by the same worker as
  the app's jobs (bench.worker_run), so RQ and the worker's app context are on both sides.

The webhook and the apply job are reported as fractions of these (docs/performance.md).
"""

from __future__ import annotations

import json
import os

from flask import Flask, request


def _floor_insert(key: str, kind: str):
    from sqlalchemy.dialects.postgresql import insert

    from app.models import StripeEvent

    return (
        insert(StripeEvent)
        .values(id=f"floor-{key}", type=kind, status="processed", attempts=0)
        .on_conflict_do_nothing()
    )


def build_floor_app() -> Flask:
    """The minimal endpoint: one engine, one signature check, one insert, one commit."""
    import stripe
    from sqlalchemy import create_engine

    import app.models  # noqa: F401 - at start, as the app's workers load it: not in a first request's time

    floor = Flask(__name__)
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=8)
    secret = os.environ["STRIPE_WEBHOOK_SECRET"]

    @floor.get("/healthz")
    def healthz():
        return "ok"

    @floor.post("/floor/stripe")
    def floor_stripe():
        try:
            event = stripe.Webhook.construct_event(request.get_data(), request.headers.get("Stripe-Signature", ""),
                                                   secret)
        except (ValueError, stripe.SignatureVerificationError):
            return "bad signature", 400
        with engine.begin() as conn:
            conn.execute(_floor_insert(event["id"], event["type"]))
        return {"received": True}

    @floor.post("/floor/stripe/verify-header")
    def floor_stripe_verify_header():
        """Leaner still: Stripe's signature check alone and one json.loads, as the app's webhook does
        (construct_event also builds a StripeObject tree: about 25 times the time, in one measure)."""
        payload = request.get_data()
        try:
            stripe.WebhookSignature.verify_header(payload, request.headers.get("Stripe-Signature", ""), secret,
                                                  stripe.Webhook.DEFAULT_TOLERANCE)
            event = json.loads(payload)
        except (ValueError, stripe.SignatureVerificationError):
            return "bad signature", 400
        with engine.begin() as conn:
            conn.execute(_floor_insert(event["id"], event["type"]))
        return {"received": True}

    return floor


def one_row_job(key: str) -> str:
    """The yardstick job: one row written and committed through the worker's own session."""
    from app.extensions import db

    db.session.execute(_floor_insert(f"job-{key}", "floor.job"))
    db.session.commit()
    return "ok"

