"""The app as benchmarked, plus "bare" endpoints: same stack, same signature check, one insert.

The bare endpoints are the yardstick: the full handlers are reported as a
fraction of what this stack does when it only verifies and writes one row.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request
from sqlalchemy.dialects.postgresql import insert

from app import create_app
from app.extensions import csrf, db
from app.models import EventLog, StripeEvent
from app.web.input_guard import takes_structured_json

bare = Blueprint("bench_bare", __name__)


@bare.post("/bench/bare/stripe")
@takes_structured_json  # a Stripe event nests objects; the input guard refuses that unless marked
def bare_stripe():
    import stripe

    try:
        event = stripe.Webhook.construct_event(
            request.get_data(), request.headers.get("Stripe-Signature", ""), current_app.config["STRIPE_WEBHOOK_SECRET"]
        )
    except (ValueError, stripe.SignatureVerificationError):
        return "bad signature", 400
    db.session.execute(
        insert(StripeEvent)
        .values(id="bare-" + event["id"], type=event["type"], status="processed")
        .on_conflict_do_nothing()
    )
    db.session.commit()
    return "", 200


@bare.post("/bench/bare/twilio")
def bare_twilio():
    from twilio.request_validator import RequestValidator

    url = current_app.config["PUBLIC_BASE_URL"] + request.full_path.rstrip("?")
    if not RequestValidator(current_app.config["TWILIO_AUTH_TOKEN"]).validate(
        url, request.form, request.headers.get("X-Twilio-Signature", "")
    ):
        return "bad signature", 403
    org_id = int(request.args["org"])
    db.session.add(EventLog(org_id=org_id, kind="bench.bare", payload={"sid": request.form.get("MessageSid")}))
    db.session.commit()
    return '<?xml version="1.0" encoding="UTF-8"?><Response/>', 200, {"Content-Type": "text/xml"}


def build():
    app = create_app()
    csrf.exempt(bare)
    app.register_blueprint(bare)
    return app


app = build()
