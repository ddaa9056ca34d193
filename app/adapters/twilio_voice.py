"""Twilio voice: the TwiML a call hears, and bridged calls placed through the SDK.

TwiML is built with the SDK's `VoiceResponse`, never by string formatting: numbers and
names are escaped by the library. A bridged call (a sitter's click-to-call) rings the
sitter's own phone first, from the masking number, and then dials the client with the
masking number as caller ID: each end sees only the masking number.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests
from flask import current_app
from twilio.base.exceptions import TwilioException
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from app.privacy import mask_phone

log = logging.getLogger(__name__)

RING_SECONDS = 20  # a sitter's phone rings this long before the caller hears the fallback


class VoiceUnavailable(Exception):
    """Calls cannot be placed: Twilio is not configured, or it refused or could not be reached."""


@dataclass(frozen=True)
class Answer:
    """What a caller hears, in the provider's neutral terms (see app.services.calls)."""

    dial: str | None = None  # the phone to ring
    caller_id: str | None = None  # shown to the person rung (None: Twilio's default, the caller)
    action_url: str | None = None  # told how the dial ended (no answer, busy, …)
    say: str | None = None  # spoken before the dial, or alone
    say_after: str | None = None  # spoken when a dial with no action URL ends


def twiml_for(answer: Answer) -> str:
    """The TwiML document for an answer."""
    response = VoiceResponse()
    if answer.say:
        response.say(answer.say)
    if answer.dial:
        options = {"timeout": RING_SECONDS}
        if answer.caller_id:
            options["caller_id"] = answer.caller_id
        if answer.action_url:
            options["action"] = answer.action_url
            options["method"] = "POST"
        dial = response.dial(**options)
        dial.number(answer.dial)
    if answer.say_after:
        response.say(answer.say_after)
    if not answer.dial or not answer.action_url:
        response.hangup()
    return str(response)


def voice_configured() -> bool:
    config = current_app.config
    return bool(config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN")
                and (config.get("SMS_PROVIDER") == "twilio" or config.get("TWILIO_HTTP_CLIENT")))


def _client() -> Client:
    config = current_app.config
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # it logs numbers at INFO
    return Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                  http_client=config.get("TWILIO_HTTP_CLIENT"))


def place_bridged_call(*, masking_e164: str, first_leg_e164: str, second_leg_e164: str,
                       status_callback: str | None) -> str:
    """Ring `first_leg_e164` from the masking number; once answered, dial `second_leg_e164` with
    the masking number as caller ID. Returns Twilio's call sid; raises VoiceUnavailable."""
    if not voice_configured():
        raise VoiceUnavailable("Calls need Twilio configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN).")
    bridge = twiml_for(Answer(dial=second_leg_e164, caller_id=masking_e164))
    options = {"to": first_leg_e164, "from_": masking_e164, "twiml": bridge, "timeout": RING_SECONDS}
    if status_callback:
        options["status_callback"] = status_callback
    try:
        created = _client().calls.create(**options)
    except (TwilioException, requests.RequestException, OSError) as exc:
        log.warning("twilio: call from %s to %s not placed: %s", mask_phone(masking_e164),
                    mask_phone(first_leg_e164), type(exc).__name__)
        raise VoiceUnavailable("Twilio could not place the call; try again in a minute.") from exc
    log.info("twilio: bridged call from %s placed sid=%s", mask_phone(masking_e164), created.sid)
    return created.sid
