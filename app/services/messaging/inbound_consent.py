"""What an inbound text means for consent: the ledger rows, the confirmation, the owner alert.

STOP / START (and Twilio's OptOutType) record `revoked` / `granted`; a text that means "stop
texting me" in plain words revokes like STOP and gets one confirmation (Twilio confirms only its
keywords); a longer text that merely mentions stopping raises a "possible opt-out" owner alert
with the 10-business-day deadline; a number's first text records `granted`
(`client_texted_first`).
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from app.clock import utcnow
from app.extensions import db
from app.localtime import format_datetime
from app.models import Client, MessageNumber, Org
from app.services.audit.events import raise_alert, record_event
from app.services.messaging.opt_out_phrases import honour_by, opt_out_reading
from app.services.messaging.outbound import queue_outbound_message
from app.services.messaging.wording import opt_out_confirmation
from app.services.people.consent import latest_consent, record_consent

log = logging.getLogger(__name__)

POSSIBLE_OPT_OUT = "consent.possible_opt_out"


def plain_language_action(body: str, client: Client | None) -> str | None:
    """'plain_stop' for "please stop texting me", 'possible_stop' when a client's text only
    mentions stopping, else None (a keyword was handled before this is asked)."""
    reading = opt_out_reading(body)
    if reading == "possible" and client is None:
        return None  # an unknown sender's text is in the owner inbox already
    return {"revoke": "plain_stop", "possible": "possible_stop"}.get(reading)


def record_inbound_consent(*, number: MessageNumber, client: Client | None, sender: str, body: str,
                           action: str | None, message_id: int, thread_id: int | None,
                           has_consent: bool) -> None:
    """The ledger rows and follow-ups of one recorded inbound text (caller's transaction).
    `has_consent`: the ledger already has a row for the sender (read with the routing)."""
    org_id = number.org_id
    if action == "stop":
        record_consent(org_id, sender, "revoked", "keyword_stop", client=client, wording=body[:500],
                       message_id=message_id)
    elif action == "start":
        record_consent(org_id, sender, "granted", "keyword_start", client=client, wording=body[:500],
                       message_id=message_id)
    elif action == "plain_stop":
        latest = latest_consent(org_id, sender)
        already_revoked = latest is not None and latest.kind == "revoked"
        record_consent(org_id, sender, "revoked", "plain_language", client=client, wording=body[:500],
                       message_id=message_id)
        if already_revoked:
            return  # at most one confirmation: they were told already
        org = db.session.get(Org, org_id)
        queue_outbound_message(org_id=org_id, thread_id=thread_id, from_number_id=number.id, to_e164=sender,
                               body=opt_out_confirmation(org), sender_kind="system", confirms_opt_out=True)
    elif not has_consent and action != "help":
        record_consent(org_id, sender, "granted", "client_texted_first", client=client, message_id=message_id)
    if action == "possible_stop":
        _alert_possible_opt_out(org_id, client, message_id, thread_id)


def _alert_possible_opt_out(org_id: int, client: Client, message_id: int, thread_id: int | None) -> None:
    org = db.session.get(Org, org_id)
    deadline = honour_by(utcnow(), ZoneInfo(org.timezone))
    record_event(org_id, POSSIBLE_OPT_OUT, thread_id=thread_id, actor="twilio", client_id=client.id,
                 message_id=message_id, honour_by=deadline.isoformat())
    raise_alert(org_id, POSSIBLE_OPT_OUT,
                f"Possible opt-out: a text from client #{client.id} mentions stopping. Read it and, if they "
                f"want no more texts, opt them out by {format_datetime(deadline, org.timezone)} "
                f"(10 business days).", thread_id=thread_id, message_id=message_id)
    log.info("inbound message %s: possible opt-out, owners alerted", message_id)
