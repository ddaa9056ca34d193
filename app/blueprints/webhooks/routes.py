"""Webhook routes live in one module per sender (Stripe, Twilio); importing registers them."""

from app.blueprints.webhooks import twilio, voice  # noqa: F401
