"""The configured SMS provider: Twilio through its SDK, or the outbox (dev and tests)."""

from __future__ import annotations

from flask import current_app

from app.adapters.sms import OutboxProvider, SmsProvider
from app.adapters.twilio_sms import TwilioProvider


def get_provider() -> SmsProvider:
    """The configured provider (SMS_PROVIDER); tests may put one in app.extensions."""
    override = current_app.extensions.get("pawline_sms_provider")
    if override is not None:
        return override
    if current_app.config["SMS_PROVIDER"] == "twilio":
        return TwilioProvider.from_config(current_app.config)
    return OutboxProvider()
