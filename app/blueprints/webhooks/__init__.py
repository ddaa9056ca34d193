"""Signed webhooks from Stripe and Twilio (CSRF-exempt; the signature is the check)."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from app.blueprints.webhooks import routes, stripe  # noqa: E402,F401
