"""Twilio webhooks: inbound SMS and delivery status, both signature-checked.

Twilio signs the exact URL it called plus every form field; behind a proxy
the URL is rebuilt from PUBLIC_BASE_URL. An unsigned or wrongly signed request
gets 403 and writes nothing.
"""

from __future__ import annotations

import logging

from flask import Response, abort, current_app, request
from twilio.request_validator import RequestValidator

from app.blueprints.webhooks import bp
from app.services.delivery_status import apply_status_callback
from app.services.inbound import route_inbound_sms

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def public_url() -> str:
    """The URL Twilio called: PUBLIC_BASE_URL + path + query string (request.url without one)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return base.rstrip("/") + request.path + (f"?{query}" if query else "")


def require_twilio_signature() -> None:
    signature = request.headers.get("X-Twilio-Signature", "")
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not signature or not token or not RequestValidator(token).validate(public_url(), request.form, signature):
        log.warning("twilio webhook %s: missing or invalid signature", request.path)
        abort(403)


@bp.post("/twilio/sms")
def twilio_sms():
    require_twilio_signature()
    route_inbound_sms(request.form.to_dict())
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post("/twilio/status")
def twilio_status():
    require_twilio_signature()
    apply_status_callback(request.form.to_dict())
    return Response(EMPTY_TWIML, mimetype="text/xml")
