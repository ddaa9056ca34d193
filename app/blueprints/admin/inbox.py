"""The owner inbox and every thread."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.admin import bookings, bp
from app.blueprints.admin.common import form_status, org, owner_or_staff, page_arg, run_form
from app.blueprints.admin.conversation import compose_context, conversation_context
from app.blueprints.admin.forms import ConfirmForm, OfficeTextForm, ReplyForm, options
from app.blueprints.admin.office_notes import office_note_page
from app.blueprints.media.routes import uploaded_photos
from app.models import Message, Thread
from app.services.messaging.office_notes import note_for_message
from app.services.messaging.office_texts import quiet_hours, text_thread_client
from app.services.messaging.owner_inbox import reply_numbers, reply_recipient, reply_to_inbox_message, set_handled
from app.services.people.phones import national_format
from app.services.queries.admin import list_owner_inbox, list_threads, thread_messages
from app.web.scoping import get_in_org_or_404
from app.web.templating import render_page_or_partial, wants_fragment


@bp.route("/inbox")
@owner_or_staff
def inbox():
    show_handled = request.args.get("handled") == "1"
    page = list_owner_inbox(org().id, show_handled, page_arg())
    return render_page_or_partial("admin/inbox.html", "admin/partials/inbox_rows.html", listing=page,
                                  show_handled=show_handled, confirm=ConfirmForm())


def _reply_form(message: Message) -> ReplyForm:
    form = ReplyForm()
    form.from_number_id.choices = options((n.id, f"{national_format(n.e164)} ({n.kind.replace('_', ' ')})")
                                          for n in reply_numbers(message))
    return form


@bp.route("/inbox/<int:message_id>", methods=["GET", "POST"])
@owner_or_staff
def inbox_message(message_id: int):
    message = get_in_org_or_404(Message, message_id)
    if not message.owner_inbox:
        abort(404)
    note = note_for_message(message)
    if note is not None:
        return office_note_page(message, note)
    form = _reply_form(message)
    outcome = run_form(form, lambda: reply_to_inbox_message(message.id, from_number_id=form.from_number_id.data,
                                                            body=form.body.data, user_id=current_user.id,
                                                            photos=uploaded_photos()))
    if outcome.ok:
        if outcome.result.status == "blocked":
            flash("Not sent: the client replied STOP, so texts to them are paused until they reply START. "
                  "The message is marked handled.", "error")
        else:
            flash("Reply queued; the message is marked handled.", "info")
        return redirect(url_for("admin.inbox"))
    history = thread_messages(message.thread_id) if message.thread_id else [message]
    return render_template("admin/inbox_message.html", message=message, form=form,
                           **conversation_context(message.thread, history), confirm=ConfirmForm(),
                           quiet=quiet_hours(org(), reply_recipient(message))), form_status(form)


@bp.route("/inbox/<int:message_id>/handled", methods=["POST"])
@owner_or_staff
def inbox_handled(message_id: int):
    message = get_in_org_or_404(Message, message_id)
    if not message.owner_inbox:
        abort(404)
    if ConfirmForm().validate_on_submit():
        set_handled(message.id, request.form.get("handled", "1") == "1", current_user.id)
    if wants_fragment():
        page = list_owner_inbox(org().id, False, 1)
        return render_template("admin/partials/inbox_rows.html", listing=page, show_handled=False,
                               confirm=ConfirmForm())
    return redirect(url_for("admin.inbox"))


@bp.route("/threads")
@owner_or_staff
def threads():
    search = request.args.get("q", "").strip()
    page = list_threads(org().id, search or None, page_arg())
    return render_page_or_partial("admin/threads.html", "admin/partials/thread_rows.html", listing=page, q=search)


@bp.route("/threads/<int:thread_id>")
@owner_or_staff
def thread_detail(thread_id: int):
    thread = get_in_org_or_404(Thread, thread_id)
    return render_template("admin/thread_detail.html", thread=thread,
                           **conversation_context(thread, thread_messages(thread.id)), **compose_context(thread))


@bp.route("/threads/<int:thread_id>/conversation")
@owner_or_staff
def thread_conversation(thread_id: int):
    """The conversation alone: polled by the page while a text is on its way, so its status shows."""
    thread = get_in_org_or_404(Thread, thread_id)
    context = conversation_context(thread, thread_messages(thread.id))
    return render_page_or_partial("admin/thread_detail.html", "admin/partials/conversation.html", thread=thread,
                                  **context, **compose_context(thread))


@bp.route("/threads/<int:thread_id>/text", methods=["POST"])
@owner_or_staff
def thread_text(thread_id: int):
    """Text the thread's client from its number (the thread page and the booking page post here)."""
    thread = get_in_org_or_404(Thread, thread_id)
    form = OfficeTextForm()
    back = "booking" if form.back.data == "booking" and thread.booking_id else "thread"
    outcome = run_form(form, lambda: text_thread_client(thread.id, form.body.data, current_user.id))
    if outcome.ok:
        flash(*_sent_flash(thread, outcome.result))
        if back == "booking":
            return redirect(url_for("admin.booking_detail", booking_id=thread.booking_id, _anchor="thread"))
        return redirect(url_for("admin.thread_detail", thread_id=thread.id, _anchor="conversation"))
    if back == "booking":
        return bookings.booking_page_with_compose(thread.booking, form)
    return render_template("admin/thread_detail.html", thread=thread,
                           **conversation_context(thread, thread_messages(thread.id)),
                           **compose_context(thread, form)), 422


def _sent_flash(thread: Thread, message: Message) -> tuple[str, str]:
    """What happened, truthfully: queued (not yet "sent"), or not sent and why."""
    who = thread.client.name
    number = national_format(thread.message_number.e164) if thread.message_number else "no number yet"
    if message.status == "blocked":
        return (f"Not sent: {who} replied STOP, so texts to them are paused until they reply START. "
                "The text is kept in the conversation.", "error")
    quiet = quiet_hours(org(), thread.client)
    late = f" {quiet.situation}" if quiet.now else ""
    return f"Text to {who} queued from {number}; its status shows below.{late}", "info"
