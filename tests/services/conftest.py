"""Fixtures the service tests share."""

from __future__ import annotations

import pytest

from app.services.twilio_provider import TwilioProvider
from tests.twilio_stand_in import TwilioStandIn


@pytest.fixture
def twilio(app):
    """The Twilio provider, through the SDK, against the local stand-in (its requests kept)."""
    stand_in = TwilioStandIn()
    app.extensions["pawline_sms_provider"] = TwilioProvider.from_config(app.config, http_client=stand_in)
    yield stand_in
    app.extensions.pop("pawline_sms_provider", None)
