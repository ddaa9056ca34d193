"""The inbox tells you: the owner nav's live unhandled count, and "hand to sitter" on a message."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.admin.common import confirm_step, org, owner_or_staff
from app.errors import DomainError
from app.models import Message
from app.services.messaging.hand_to_sitter import hand_to_sitter, unhandled_inbox_count
from app.services.queries.hand_previews import preview_hand_to_sitter
from app.web.scoping import get_in_org_or_404


@bp.route("/inbox/count")
@owner_or_staff
def inbox_count():
    """The nav badge (htmx polls it; app.js skips polls while the tab is hidden)."""
    response = render_template("admin/partials/inbox_count.html", count=unhandled_inbox_count(org().id))
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/inbox/<int:message_id>/hand-to-sitter", methods=["POST"])
@owner_or_staff
def inbox_hand_to_sitter(message_id: int):
    message = get_in_org_or_404(Message, message_id)
    if not message.owner_inbox:
        abort(404)
    back = url_for("admin.inbox_message", message_id=message.id)

    def hand():
        try:
            result = hand_to_sitter(message.id, current_user.id)
        except DomainError as exc:
            flash(str(exc), "error")
            return redirect(back)
        flash(f"Handed to {result.sitter_name}: it is in their alerts (numbers hidden); the message is marked "
              "handled.", "info")
        return redirect(url_for("admin.inbox"))

    return confirm_step(lambda: preview_hand_to_sitter(message.id), back, hand)
