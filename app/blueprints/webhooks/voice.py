"""Twilio voice webhooks: a call to one of our numbers, and how a dial to a sitter ended.

Signed exactly like the SMS webhook (the same validator over the exact public URL and the
form fields; 403 unsigned, nothing written). The answer is TwiML built by the SDK
(app.adapters.twilio_voice); who is rung is the service's decision (app.services.calls).
"""

from __future__ import annotations

import re

from flask import Response, current_app, url_for

from app.adapters.twilio_voice import twiml_for
from app.blueprints.webhooks import bp
from app.blueprints.webhooks.twilio import _SID, FieldRule, _validated_form, require_twilio_signature
from app.services.calls.inbound import answer_inbound_call, apply_call_status, finish_dial

_CALLER = FieldRule(32)  # E.164, or "anonymous" / "restricted" for a hidden caller id
_STATUS = FieldRule(32, re.compile(r"[A-Za-z_-]+"))
_SECONDS = FieldRule(10, re.compile(r"[0-9]+"))

VOICE_FIELDS: dict[str, FieldRule] = {
    "CallSid": _SID, "AccountSid": _SID, "ParentCallSid": _SID, "DialCallSid": _SID,
    "To": _CALLER, "From": _CALLER,
    "CallStatus": _STATUS, "Direction": _STATUS, "DialCallStatus": _STATUS,
    "DialCallDuration": _SECONDS, "CallDuration": _SECONDS,
}


def _public(endpoint: str, **values) -> str:
    """The https URL Twilio will call back (and sign): PUBLIC_BASE_URL + path when set."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, _external=False, **values)
    return url_for(endpoint, _external=True, **values)


def _twiml(answer) -> Response:
    return Response(twiml_for(answer), mimetype="text/xml")


@bp.post("/twilio/voice")
def twilio_voice():
    require_twilio_signature()
    fields = _validated_form(VOICE_FIELDS)
    answer = answer_inbound_call(fields, lambda call_id: _public("webhooks.twilio_voice_dial_ended",
                                                                 call_id=call_id))
    return _twiml(answer)


@bp.post("/twilio/voice/dial/<int:call_id>")
def twilio_voice_dial_ended(call_id: int):
    require_twilio_signature()
    return _twiml(finish_dial(call_id, _validated_form(VOICE_FIELDS)))


@bp.post("/twilio/voice/status")
def twilio_voice_status():
    require_twilio_signature()
    apply_call_status(_validated_form(VOICE_FIELDS))
    return _twiml_empty()


def _twiml_empty() -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?><Response/>', mimetype="text/xml")


def voice_status_url() -> str:
    """Where Twilio reports a bridged call's end."""
    return _public("webhooks.twilio_voice_status")
