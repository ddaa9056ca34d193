"""The confirm step of "hand to sitter": who gets it, and the exact (redacted) words they will see."""

from __future__ import annotations

from app.extensions import db
from app.models import Message
from app.services.messaging.hand_to_sitter import handing_target, sitter_alert_text
from app.services.queries.action_previews import ActionPreview


def preview_hand_to_sitter(message_id: int) -> ActionPreview:
    message = db.session.get(Message, message_id)
    booking = handing_target(message_id)
    if booking is None:
        preview = ActionPreview("Hand this message to a sitter?", "Hand it over")
        preview.refused = "No sitter has a current or coming visit with this client, so there is no one to hand it to."
        return preview
    preview = ActionPreview(f"Hand this message to {booking.sitter.name}?", f"Yes, hand it to {booking.sitter.name}")
    preview.lines.append(f"{booking.sitter.name} sees this in their alerts (phone numbers and e-mail addresses "
                         f"hidden): {sitter_alert_text(message, booking)}")
    preview.lines.append("The client is not texted; the message is marked handled.")
    return preview
