"""Sitter pages: thin views over app.services.queries.sitter_dashboard and sitter_messages."""

from __future__ import annotations

import flask_htmx
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.auth.routes import role_required
from app.blueprints.media.routes import uploaded_photos
from app.blueprints.sitter import bp
from app.blueprints.sitter.forms import ComposeForm, new_send_key
from app.clock import utcnow
from app.errors import InvalidInput
from app.privacy import redact_for_sitter
from app.services.media.outbound import MediaUnavailable
from app.services.messaging.sitter_messages import (
    MessagingClosed,
    SendKeyInvalid,
    SendKeyUsed,
    mark_thread_read,
    send_sitter_message,
    sitter_for_user,
    visit_report_due,
)
from app.services.notifications.notify import notification_choices
from app.services.orgs.settings import org_quick_replies
from app.services.queries import sitter_dashboard
from app.services.visits.offline_card import offline_card_ids
from app.web.templating import render_page_or_partial, wants_fragment

bp.add_app_template_global(visit_report_due, "visit_report_due")  # the compose box's link to the report


@bp.before_request
def _send_expired_htmx_polls_to_login():
    """A poll from a page whose session ended must not swap the login form into a card."""
    if wants_fragment() and not current_user.is_authenticated:
        return flask_htmx.make_response("", 200, redirect=url_for("auth.login", next=request.path))
    return None


def _org():
    return current_user.org


def _dashboard_context() -> dict:
    org, user_id = _org(), current_user.id
    sitter, now = sitter_for_user(user_id), utcnow()
    return {"dash": sitter_dashboard.dashboard(user_id, org, now, sitter), "tz": org.timezone,
            "card_ids": offline_card_ids(user_id, now, sitter), "notify": notification_choices(current_user)}


@bp.route("")
@role_required("sitter")
def dashboard():
    return render_template("sitter/dashboard.html", **_dashboard_context())


@bp.route("/visits")
@role_required("sitter")
def visits():
    """Active now, Today and Waiting for a number, polled together (and on returning to the tab) so they agree."""
    if wants_fragment():
        org, user_id = _org(), current_user.id
        sitter, now = sitter_for_user(user_id), utcnow()
        context = {"visits": sitter_dashboard.visits(user_id, org, now, sitter), "tz": org.timezone,
                   "card_ids": offline_card_ids(user_id, now, sitter)}
    else:
        context = _dashboard_context()
    return render_page_or_partial("sitter/dashboard.html", "sitter/partials/visits.html", **context)


@bp.route("/active")
@role_required("sitter")
def active():
    """Polled by the dashboard; a plain visit gets the whole dashboard."""
    if wants_fragment():
        context = {"active": sitter_dashboard.active_now(current_user.id), "tz": _org().timezone}
    else:
        context = _dashboard_context()
    return render_page_or_partial("sitter/dashboard.html", "sitter/partials/active_now.html", **context)


@bp.route("/alerts")
@role_required("sitter")
def alerts():
    items = sitter_dashboard.alerts(current_user.id)
    response = render_page_or_partial("sitter/alerts.html", "sitter/partials/alerts.html", alerts=items,
                                      tz=_org().timezone)
    sitter_dashboard.mark_alerts_seen(current_user.id, items)  # a refusal, once read, does not pile up
    return response


@bp.route("/alerts/<int:alert_id>/dismiss", methods=["POST"])
@role_required("sitter")
def dismiss_alert(alert_id: int):
    sitter_dashboard.dismiss_alert(current_user.id, alert_id)
    if wants_fragment():
        return render_template(
            "sitter/partials/alerts.html",
            alerts=sitter_dashboard.alerts(current_user.id),
            tz=_org().timezone,
        )
    return redirect(url_for("sitter.alerts"))


def _thread_context(thread_id: int, form: ComposeForm | None = None, **extra) -> dict:
    page = sitter_dashboard.thread_page(current_user.id, thread_id)
    return {
        "t": page,
        "compose": page.compose,
        "form": form or ComposeForm(formdata=None),
        "tz": _org().timezone,
        "quick_replies": org_quick_replies(_org()),
        **extra,
    }


@bp.route("/threads/<int:thread_id>")
@role_required("sitter")
def thread(thread_id: int):
    context = _thread_context(thread_id)
    mark_thread_read(current_user.id, thread_id, current_user.org_id)
    return render_template("sitter/thread.html", **context)


@bp.route("/threads/<int:thread_id>/messages")
@role_required("sitter")
def messages(thread_id: int):
    """Polled by the thread page; a plain visit gets the whole thread page.

    `?after=<id>` (the newest message the page holds): only what is new since, or
    204 No Content when nothing is, so a poll costs a few bytes and statements.
    """
    after = request.args.get("after", type=int)
    if after is not None:
        return _messages_after(thread_id, after)
    context = _thread_context(thread_id)
    mark_thread_read(current_user.id, thread_id, current_user.org_id)
    return render_page_or_partial("sitter/thread.html", "sitter/partials/messages.html", **context)


def _messages_after(thread_id: int, after: int):
    if not 0 <= after < 2**63:
        abort(400)
    update = sitter_dashboard.thread_update(current_user.id, thread_id, after)
    if not update.messages:
        response = make_response("", 204)
    else:
        mark_thread_read(current_user.id, thread_id, current_user.org_id)
        response = make_response(render_template("sitter/partials/message_items.html", messages=update.messages,
                                                 tz=_org().timezone))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/threads/<int:thread_id>/compose")
@role_required("sitter")
def compose(thread_id: int):
    """Polled while compose is closed, so it opens by itself when the window does."""
    return render_page_or_partial("sitter/thread.html", "sitter/partials/compose.html", **_thread_context(thread_id))


@bp.route("/threads/<int:thread_id>/messages", methods=["POST"])
@role_required("sitter")
def send(thread_id: int):
    form = ComposeForm()
    try:
        outcome = send_sitter_message(current_user.id, thread_id, form.body.data, photos=uploaded_photos(),
                                      send_key=request.form.get("send_key"))  # not the field's fresh default
    except (SendKeyUsed, SendKeyInvalid) as exc:
        # This form's key already made a message that cannot answer for these words (or is no
        # key of ours): they stay in the box under a fresh key, so Send sends them (once).
        form.send_key.data = new_send_key()
        return _refused(thread_id, form, redact_for_sitter(str(exc)), exc.status_code)
    except (InvalidInput, MessagingClosed, MediaUnavailable) as exc:
        # Empty, too long, a policy block, a bad photo, or outside the window (already recorded
        # and alerted by the service): show why and keep the typed text for editing; a text the
        # window refused can go to the office instead (POST /sitter/office).
        return _refused(thread_id, form, redact_for_sitter(str(exc)), exc.status_code,
                        offer_office=isinstance(exc, MessagingClosed))
    notice = redact_for_sitter(outcome.notice)  # it names the client
    if wants_fragment():
        context = _thread_context(thread_id, notice=notice, flagged=outcome.flagged)
        return render_template("sitter/partials/compose_sent.html", **context)
    flash(notice, "warning" if outcome.flagged or outcome.status == "blocked" else "info")
    return redirect(url_for("sitter.thread", thread_id=thread_id, _anchor="compose"))


def _refused(thread_id: int, form: ComposeForm, error: str, status: int, offer_office: bool = False):
    context = _thread_context(thread_id, form=form, error=error, offer_office=offer_office)
    if wants_fragment():
        # htmx swaps only 2xx answers by default; the refusal is in the fragment itself.
        return render_template("sitter/partials/compose.html", **context)
    return render_template("sitter/thread.html", **context), status
