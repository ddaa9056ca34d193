"""What carriers require texts to say: the HELP answer and the first text a client gets.

HELP answers with the business name, what the texts are about, a support contact (the org's
setting; else its front-desk number, formatted for people), "Msg & data rates may apply" and
how to stop. The first text a client ever gets from the org, whatever its kind, names the
business and says "Reply STOP to opt out".
"""

from __future__ import annotations

from sqlalchemy import literal, select

from app.extensions import db
from app.models import Message, MessageNumber, Org
from app.services.numbers.choice import front_desk_number_id
from app.services.people.phones import national_format

RATES = "Msg & data rates may apply."
HOW_TO_STOP = "Reply STOP to opt out."
MAX_BODY = 1600  # Twilio's limit on one text


def support_contact(org: Org) -> str | None:
    """The org's support contact, else its front-desk number for people to read, else None."""
    if org.support_contact:
        return org.support_contact
    number_id = front_desk_number_id(org.id)
    if number_id is None:
        return None
    return national_format(db.session.get(MessageNumber, number_id).e164)


def help_text(org: Org) -> str:
    contact = support_contact(org)
    reach = f" Help: {contact}." if contact else ""
    return (f"{org.name}: texts about your pet-sitting bookings (confirmations, reminders, messages "
            f"from your sitter).{reach} {RATES} {HOW_TO_STOP}")


def opt_out_confirmation(org: Org) -> str:
    """The one confirmation a plain-language opt-out gets (STOP is confirmed by Twilio itself)."""
    return f"{org.name}: you are opted out and will get no more texts from us. Reply START to opt back in."


def earlier_text_exists(org_id: int, to_e164: str):
    """SQL: a text has gone (or is on its way) to this number from the org before."""
    return (select(Message.id).where(Message.org_id == org_id, Message.direction == "outbound",
                                     Message.to_e164 == to_e164, Message.status != "blocked").exists())


def with_first_text_wording(business: str, body: str) -> str:
    """`body` naming the business and how to stop (each added only when missing)."""
    text = body or ""
    if business.lower() not in text.lower():
        text = f"{business}: {text}" if text else business
    if "reply stop" not in text.lower():
        text = f"{text}\n{HOW_TO_STOP}"
    return text[:MAX_BODY]


def first_text_forms(text: str) -> list:
    """SQL values a typed `text` may have become as a first text (see with_first_text_wording),
    with the business name read from the message's own org: so a repeated tap is still seen as
    the same text."""
    name = select(Org.name).where(Org.id == Message.org_id).scalar_subquery()
    stop = f"\n{HOW_TO_STOP}"
    if not text:  # photos alone: the first one still names the business
        return [name + stop, name]
    return [name + f": {text}{stop}", name + f": {text}", literal(f"{text}{stop}")]
