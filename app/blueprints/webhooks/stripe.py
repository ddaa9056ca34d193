"""POST /webhooks/stripe: verify and store the event, answer at once; a job applies it."""

from __future__ import annotations

from flask import jsonify, render_template, request

from app.blueprints.webhooks import bp
from app.services.payments.stripe_events import receive_stripe_event
from app.web.after_response import jobs_after_response


@bp.route("/stripe", methods=["POST"])
@jobs_after_response  # Stripe waits for the stored row only; the apply job goes once it has its 200
def stripe_webhook():
    # get_data() refuses bodies over MAX_CONTENT_LENGTH with 413 before we read them.
    stored = receive_stripe_event(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
    return jsonify(received=True, event=stored.event_id, status=stored.status, duplicate=stored.duplicate)


@bp.route("/stripe/return", methods=["GET"])
def stripe_checkout_return():
    """Where Stripe Checkout sends the client back (success_url / cancel_url)."""
    return render_template("webhooks/checkout_return.html", paid=request.args.get("paid") == "1")
