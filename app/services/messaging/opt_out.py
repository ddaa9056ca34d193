"""Client opt-out state: STOP/START/HELP keywords and Twilio's 21610, mirrored on Client.

Twilio blocks sends to a recipient who replied STOP (error 21610) until they
reply START; we keep `Client.opted_out` in step so that nothing is even queued
for them (`queue_outbound_message` records such texts as `blocked`).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.models import Client
from app.privacy import mask_phone
from app.services.audit.events import record_event
from app.services.people.consent import record_consent

log = logging.getLogger(__name__)

# Twilio's whole-message keywords (case-insensitive, surrounding space ignored).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
OPT_OUT_TYPES = {"STOP": "stop", "START": "start", "HELP": "help"}


def keyword_action(body: str | None, opt_out_type: str | None = None) -> str | None:
    """'stop', 'start', 'help' or None for an inbound text.

    Twilio's `OptOutType` wins when present (Advanced Opt-Out may use custom
    keywords); otherwise the whole message must be one of the standard words.
    """
    if opt_out_type:
        return OPT_OUT_TYPES.get(opt_out_type.strip().upper())
    word = (body or "").strip().strip(".!").upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None


def set_client_opt_out(client: Client, opted_out: bool, *, source: str) -> bool:
    """Set the flag (in the caller's transaction); True when it changed. Audited."""
    if client.opted_out == opted_out:
        return False
    client.opted_out = opted_out
    client.opted_out_at = utcnow() if opted_out else None
    record_event(client.org_id, "client.opted_out" if opted_out else "client.opted_in",
                 actor="twilio", client_id=client.id, source=source)
    log.info("client %s %s (%s)", client.id, "opted out" if opted_out else "opted back in", source)
    return True


def mark_opted_out_by_phone(org_id: int, phone_e164: str | None, *, source: str) -> Client | None:
    """Twilio said 21610 for this recipient: the org's client with that number is opted out."""
    if not phone_e164:
        return None
    client = db.session.scalar(select(Client).where(Client.org_id == org_id, Client.phone_e164 == phone_e164))
    if client is None:
        log.info("21610 for %s, who is not a client of org %s", mask_phone(phone_e164), org_id)
        return None
    if set_client_opt_out(client, True, source=source):
        record_consent(org_id, phone_e164, "revoked", "provider_opt_out", client=client,
                       wording="Twilio refused a send: the number replied STOP (21610)")
    return client
