"""The confirm step of erasing a client's data: what goes, what stays, in words (read-only)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, CareNote, Client, ConsentEvent, Message, MessageMedia
from app.services.people.client_data import client_calls, client_messages
from app.services.queries.action_previews import ActionPreview


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def preview_erase_client(client_id: int) -> ActionPreview:
    client = db.session.get(Client, client_id)
    preview = ActionPreview(title=f"Erase {client.name}'s data?", button="Erase their data for good", danger=True)
    if client.erased_at is not None:
        preview.refused = "This client's data was already erased."
        return preview
    messages = client_messages(client).with_only_columns(Message.id)
    n_messages = db.session.scalar(select(func.count()).select_from(messages.subquery()))
    n_calls = db.session.scalar(select(func.count()).select_from(client_calls(client).subquery()))
    n_media = db.session.scalar(select(func.count(MessageMedia.id)).where(MessageMedia.message_id.in_(messages)))
    n_open = db.session.scalar(select(func.count(Booking.id)).where(
        Booking.client_id == client.id, Booking.status.in_(("pending", "confirmed"))))
    n_notes = db.session.scalar(select(func.count(CareNote.id)).where(CareNote.client_id == client.id))
    n_ledger = db.session.scalar(select(func.count(ConsentEvent.id)).where(ConsentEvent.client_id == client.id))
    preview.lines = [
        f"Removes their name, phone number, address, notes, {_plural(len(client.pets), 'pet')} and "
        f"{_plural(n_notes, 'care note')} from Pawline, including the audit log, alerts, notifications "
        "and stored Stripe payloads.",
        f"Blanks the text of {_plural(n_messages, 'message')} and deletes {_plural(n_media, 'photo')}, "
        "and asks Twilio to delete its copies.",
        f"Removes their number from {_plural(n_calls, 'call')} (the calls' times stay)." if n_calls
        else "They made or got no calls through Pawline.",
        f"Cancels {_plural(n_open, 'open booking')} without texting them." if n_open
        else "They have no open bookings.",
        f"Keeps the consent ledger ({n_ledger} {'entry' if n_ledger == 1 else 'entries'}) with their number "
        "stored only as a keyed hash, so a later question about their consent can still be answered.",
        "This cannot be undone: download their data first if they asked for a copy.",
    ]
    return preview
