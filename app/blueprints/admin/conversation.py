"""What the thread page, the booking page and the inbox share to show a conversation and its compose box."""

from __future__ import annotations

from app.blueprints.admin.common import org
from app.blueprints.admin.forms import OfficeTextForm
from app.models import Message, Thread
from app.services.messaging.office_texts import quiet_hours
from app.services.people.labels import sender_labels


def conversation_context(thread: Thread | None, messages: list[Message]) -> dict:
    """What the conversation partial needs: messages, who sent each, whether to keep polling."""
    return {"messages": messages, "senders": sender_labels(org().id, messages), "conversation_thread": thread,
            "in_flight": any(m.status in ("queued", "sending") for m in messages)}


def compose_context(thread: Thread, form: OfficeTextForm | None = None, back: str = "thread") -> dict:
    form = form or OfficeTextForm(formdata=None, back=back)
    return {"compose_form": form, "compose_thread": thread, "quiet": quiet_hours(org(), thread.client)}
