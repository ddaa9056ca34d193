"""Sentry: an exception holding a client's number leaves the process masked (the SDK's transport
hook stands in for the network)."""

from __future__ import annotations

import json
import logging

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from app.observability.error_reports import scrub_event

NUMBER = "+12025550143"
BODY = "the door code is 4417"
TOKEN = "secret-token"


class CapturedEvents(Transport):
    """Keeps each event the SDK would send, instead of sending it."""

    def __init__(self, options=None):
        super().__init__(options)
        self.events: list[dict] = []

    def capture_envelope(self, envelope):
        event = envelope.get_event()
        if event is not None:
            self.events.append(event)


@pytest.fixture
def sentry_events():
    transport = CapturedEvents()
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


def _failing_view():
    """A view that logs (a breadcrumb), calls a provider (a breadcrumb) and fails. Sentry sends
    the source lines around each frame: nothing here may hold what the test looks for."""
    logging.getLogger("app.some_service").warning("texting %s", NUMBER)
    sentry_sdk.add_breadcrumb(category="provider", message=f"POST /Messages.json To={NUMBER}")
    raise RuntimeError(f"Twilio refused the text to {NUMBER}")


def test_a_number_in_an_exception_leaves_masked(app_factory, sentry_events):
    app = app_factory(SENTRY_DSN="https://public@errors.example.invalid/1", SENTRY_TRANSPORT=sentry_events)
    app.add_url_rule("/_fails", view_func=_failing_view, methods=["POST"])

    response = app.test_client().post("/_fails", data={"From": NUMBER, "Body": BODY},
                                      headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 500
    sentry_sdk.flush()

    assert len(sentry_events.events) == 1
    event = sentry_events.events[0]
    sent = json.dumps(event, ensure_ascii=False, default=str)
    assert "2025550143" not in sent and "555-0143" not in sent
    assert BODY not in sent and "door code" not in sent and TOKEN not in sent
    exception = event["exception"]["values"][-1]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "Twilio refused the text to •••0143"
    crumbs = [crumb.get("message") for crumb in event["breadcrumbs"]["values"]]
    assert "texting •••0143" in crumbs and "POST /Messages.json To=•••0143" in crumbs
    assert event["request"]["data"] == "[Filtered]"
    assert event["environment"] == "test"
    assert event["tags"]["request_id"] == response.headers["X-Request-ID"]


def test_without_a_dsn_nothing_is_started(app_factory):
    app_factory(SENTRY_DSN=None)
    assert not sentry_sdk.get_client().is_active()


def test_scrub_drops_frame_variables_and_secret_headers():
    event = {"exception": {"values": [{"value": f"to {NUMBER}", "stacktrace": {"frames": [
        {"function": "send", "vars": {"to_e164": NUMBER, "body": BODY}}]}}]},
        "request": {"headers": {"Cookie": "session=abc", "X-Twilio-Signature": "sig", "User-Agent": "TwilioProxy"},
                    "cookies": {"session": "abc"}, "data": {"Body": BODY}},
        "extra": {"numbers": [NUMBER, "+44 20 7946 0958"]}}
    scrubbed = scrub_event(event)
    assert "vars" not in scrubbed["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert scrubbed["request"]["headers"] == {"Cookie": "[Filtered]", "X-Twilio-Signature": "[Filtered]",
                                              "User-Agent": "TwilioProxy"}
    assert "cookies" not in scrubbed["request"] and scrubbed["request"]["data"] == "[Filtered]"
    assert scrubbed["extra"]["numbers"] == ["•••0143", "•••0958"]
