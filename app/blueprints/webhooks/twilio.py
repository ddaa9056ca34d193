"""Twilio webhooks: inbound SMS and delivery status, both signature-checked.

Twilio signs the exact URL it called plus every form field with the account's primary
auth token; behind a proxy the URL is rebuilt from PUBLIC_BASE_URL. During a token
rotation TWILIO_AUTH_TOKEN_PREVIOUS is accepted too (docs/operations.md). An unsigned or wrongly signed request
gets 403 and writes nothing; a signed request whose fields have the wrong length or
shape gets 400 and writes nothing either (validate_twilio_fields).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from flask import Response, abort, current_app, request
from twilio.request_validator import RequestValidator

from app.blueprints.webhooks import bp
from app.services.messaging.delivery_status import apply_status_callback
from app.services.messaging.inbound import route_inbound_sms
from app.web.input_guard import has_control_characters

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def public_url() -> str:
    """The URL Twilio called: PUBLIC_BASE_URL + path + query string (request.url without one)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return base.rstrip("/") + request.path + (f"?{query}" if query else "")


def webhook_tokens() -> list[str]:
    """The tokens a webhook signature may be made with: the current one, and during a rotation
    the previous one (Twilio signs with its primary token until the new one is promoted)."""
    config = current_app.config
    return [token for token in (config.get("TWILIO_AUTH_TOKEN"), config.get("TWILIO_AUTH_TOKEN_PREVIOUS"))
            if token]


def require_twilio_signature() -> None:
    signature = request.headers.get("X-Twilio-Signature", "")
    url = public_url()
    if not signature or not any(RequestValidator(token).validate(url, request.form, signature)
                                for token in webhook_tokens()):
        log.warning("twilio webhook %s: missing or invalid signature", request.path)
        abort(403)


@dataclass(frozen=True)
class FieldRule:
    """What one Twilio field may hold when present (absence is the service's question)."""

    max_length: int
    shape: re.Pattern | None = None  # fullmatch; None: any text without control characters
    # A client's text is kept whatever it holds (inbound drops NUL, which PostgreSQL cannot store).
    any_text: bool = False


# Twilio's resource ids: two capital letters and 32 hex digits (SM…, MM…, AC…, MG…).
_SID = FieldRule(34, re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}"))
# Ours (To on an inbound text) is E.164; a sender can be a short code or an alphanumeric id.
_E164 = FieldRule(16, re.compile(r"\+[1-9][0-9]{1,14}"))
_SENDER = FieldRule(32)

# Only fields the services read: Twilio adds fields without notice, and those are only signed.
# MMS fields (NumMedia, MediaUrl0…, MediaContentType0…) slot in as more rows.
INBOUND_SMS_FIELDS: dict[str, FieldRule] = {
    "MessageSid": _SID, "SmsSid": _SID, "SmsMessageSid": _SID, "AccountSid": _SID,
    "To": _E164,
    "From": _SENDER,
    # Twilio's ceiling is 1,600 characters; a longer text (a carrier joining parts) is still kept.
    "Body": FieldRule(10_000, any_text=True),
    "OptOutType": FieldRule(16, re.compile(r"[A-Za-z]+")),
}
STATUS_CALLBACK_FIELDS: dict[str, FieldRule] = {
    "MessageSid": _SID, "SmsSid": _SID, "AccountSid": _SID,
    "To": _SENDER, "From": _SENDER,
    "MessageStatus": FieldRule(32, re.compile(r"[A-Za-z_-]+")),
    "SmsStatus": FieldRule(32, re.compile(r"[A-Za-z_-]+")),
    "ErrorCode": FieldRule(10, re.compile(r"[0-9]+")),
}


def validate_twilio_fields(fields: Mapping[str, str], rules: Mapping[str, FieldRule]) -> str | None:
    """Why these fields cannot be recorded (names the field, never echoes its value), or None."""
    for name, rule in rules.items():
        value = fields.get(name)
        if not value:  # a missing or empty field: the service says whether it needs it
            continue
        if len(value) > rule.max_length:
            return f"{name} is longer than {rule.max_length} characters."
        if rule.shape is not None and not rule.shape.fullmatch(value):
            return f"{name} is not in Twilio's format."
        if rule.shape is None and not rule.any_text and has_control_characters(value):
            return f"{name} has control characters."
    return None


def _validated_form(rules: Mapping[str, FieldRule]) -> dict[str, str]:
    fields = request.form.to_dict()
    problem = validate_twilio_fields(fields, rules)
    if problem:
        # Logged without values: a bad field may be a client's number or text.
        log.warning("twilio webhook %s refused: %s", request.path, problem)
        abort(400, description=problem)
    return fields


@bp.post("/twilio/sms")
def twilio_sms():
    require_twilio_signature()
    route_inbound_sms(_validated_form(INBOUND_SMS_FIELDS))
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post("/twilio/status")
def twilio_status():
    require_twilio_signature()
    apply_status_callback(_validated_form(STATUS_CALLBACK_FIELDS))
    return Response(EMPTY_TWIML, mimetype="text/xml")
