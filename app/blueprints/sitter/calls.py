"""A sitter's click-to-call from the thread page (Twilio rings their phone, then the client)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user

from app.blueprints.auth.routes import role_required
from app.blueprints.sitter import bp
from app.blueprints.webhooks.voice import voice_status_url
from app.errors import InvalidInput
from app.extensions import db
from app.models import MessageNumber
from app.privacy import redact_for_sitter
from app.services.calls.outbound import CallRefused, start_sitter_call
from app.services.people.phones import national_format


@bp.route("/threads/<int:thread_id>/call", methods=["POST"])
@role_required("sitter")
def call_client(thread_id: int):
    back = url_for("sitter.thread", thread_id=thread_id)
    try:
        call = start_sitter_call(current_user.id, thread_id, status_callback=voice_status_url())
    except (CallRefused, InvalidInput) as exc:
        flash(redact_for_sitter(str(exc)), "error")
        return redirect(back)
    number = db.session.get(MessageNumber, call.message_number_id)
    flash(f"Your phone will ring now from {national_format(number.e164)}: answer it and you are connected "
          "to the client. Neither of you sees the other's number.", "info")
    return redirect(back)
