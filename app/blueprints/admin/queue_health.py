"""Queue health for owners and staff: the org's waiting and failed work, from the database."""

from __future__ import annotations

from flask import flash, redirect, url_for

from app.blueprints.admin import bp
from app.blueprints.admin.common import actor, org, owner_or_staff
from app.blueprints.admin.forms import ConfirmForm
from app.errors import Conflict
from app.models import Message
from app.services.messaging.outbound import retry_message
from app.services.queries.queue_health import queue_health
from app.web.scoping import get_in_org_or_404
from app.web.templating import render_page_or_partial


@bp.route("/queue")
@owner_or_staff
def queue():
    return render_page_or_partial("admin/queue.html", "admin/partials/queue_health.html",
                                  confirm=ConfirmForm(), **queue_health(org().id))


@bp.route("/queue/messages/<int:message_id>/retry", methods=["POST"])
@owner_or_staff
def queue_message_retry(message_id: int):
    message = get_in_org_or_404(Message, message_id)
    if ConfirmForm().validate_on_submit():
        try:
            retry_message(message.id, actor=actor())
        except Conflict as exc:
            flash(str(exc), "error")
        else:
            flash(f"Text #{message_id} is queued again; its status below shows when it is sent.", "info")
    return redirect(url_for("admin.queue"))
