"""On the embedded default only: an owner types a client's text and watches it routed.

It drives the very routing the Twilio webhook uses (app.services.messaging.inbound.route_inbound_sms)
with the fields Twilio would send, so a newcomer sees the whole loop without a phone. Never
available with the Twilio provider or in production: there, real texts are the only input.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Client, Message, MessageNumber
from app.services.audit.events import record_event
from app.services.messaging.office_texts import checked_text
from app.services.people.phones import to_e164

MAX_BODY = 1600


def simulation_allowed(config) -> bool:
    """The outbox provider, and not production."""
    return config.get("SMS_PROVIDER") == "outbox" and config.get("APP_ENV") != "production"


@dataclass(frozen=True)
class SimulatedText:
    message_id: int
    thread_id: int | None
    owner_inbox: bool
    routing_reason: str | None


def simulate_client_text(org_id: int, *, client_id: int | None, other_phone: str | None, to_number_id: int,
                         body: str, user_id: int) -> SimulatedText:
    """Route a text as if `client_id` (or `other_phone`) sent it to one of the org's numbers. Commits."""
    if client_id:
        client = db.session.get(Client, client_id)
        if client is None or client.org_id != org_id:
            raise InvalidInput("Choose one of your clients.", field="client_id")
        from_e164 = client.phone_e164
    else:
        from_e164 = to_e164(other_phone, field="other_phone")
    number = db.session.scalar(select(MessageNumber).where(MessageNumber.id == to_number_id,
                                                           MessageNumber.org_id == org_id))
    if number is None:
        raise InvalidInput("Choose one of your numbers.", field="to_number_id")
    body = checked_text(body, limit=MAX_BODY, empty="Write the client's text.")
    from app.services.messaging.inbound import route_inbound_sms  # the webhook's own entry point

    message_id = route_inbound_sms({"MessageSid": f"SMsimulated{uuid.uuid4().hex}", "From": from_e164,
                                    "To": number.e164, "Body": body, "NumMedia": "0"})
    message = db.session.get(Message, message_id)
    record_event(org_id, "inbound.simulated", thread_id=message.thread_id, actor=f"user:{user_id}",
                 message_id=message.id, from_e164=from_e164, number_id=number.id, reason=message.routing_reason)
    db.session.commit()
    return SimulatedText(message.id, message.thread_id, message.owner_inbox, message.routing_reason)
