"""A sitter's note to the office in the owner inbox, and the answer back to that sitter."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from app.blueprints.admin import bp
from app.blueprints.admin.common import form_status, run_form
from app.blueprints.admin.forms import ConfirmForm
from app.extensions import db
from app.models import Booking, Message, OfficeNote, Thread
from app.services.messaging.office_notes import conversation, notes_for_messages, reply_to_office_note


class OfficeAnswerForm(FlaskForm):
    # Emptiness and length are the service's call (it keeps the text on a refusal).
    body = TextAreaField("Answer", validators=[Optional(), Length(max=1600)])


@bp.app_template_global()
def sitter_notes_for(messages) -> dict[int, OfficeNote]:
    """Inbox rows that are sitters' notes: message id → the note (with its sitter)."""
    return notes_for_messages([m.id for m in messages if m.sender_kind == "sitter"])


def office_note_page(message: Message, note: OfficeNote):
    """The inbox page of a sitter's note: the note, the answers so far, and a box to answer."""
    form = OfficeAnswerForm()
    outcome = run_form(form, lambda: reply_to_office_note(message.id, form.body.data, current_user.id))
    if outcome.ok:
        flash(f"Answer sent to {note.sitter.name}: it is on their Alerts page; the note is marked handled.", "info")
        return redirect(url_for("admin.inbox"))
    thread = db.session.get(Thread, note.thread_id) if note.thread_id else None
    booking = db.session.get(Booking, note.booking_id) if note.booking_id else None
    return render_template("admin/office_note.html", message=message, note=note, thread=thread, booking=booking,
                           lines=conversation(note), form=form, confirm=ConfirmForm()), form_status(form)
