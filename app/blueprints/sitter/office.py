"""A sitter writing to the office at any time: `POST /sitter/office` (body, optional thread_id or booking_id)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.auth.routes import role_required
from app.blueprints.sitter import bp
from app.errors import InvalidInput
from app.services.messaging.office_notes import note_subject, send_office_note, sitter_notes
from app.web.templating import wants_fragment


def _id_field(name: str, refusal: str) -> int | None:
    """An optional id the form names (thread_id, booking_id); a malformed one is refused, never a 500."""
    raw = (request.values.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) >= 2**63:
        raise InvalidInput(refusal, field=name)
    return int(raw)


def _page(body: str = "", thread_id: int | None = None, booking_id: int | None = None, error: str | None = None,
          sent: bool = False, status=200, fragment: str = "sitter/partials/office_form.html"):
    template = fragment if wants_fragment() else "sitter/office.html"
    return render_template(template, body=body, thread_id=thread_id, booking_id=booking_id, error=error, sent=sent,
                           subject=note_subject(current_user.id, booking_id), notes=sitter_notes(current_user.id),
                           tz=current_user.org.timezone), status


@bp.route("/office", methods=["GET"])
@role_required("sitter")
def office():
    """The office page; ?thread_id= or ?booking_id= (a visit waiting for a number) names what the note is about."""
    try:
        thread_id = _id_field("thread_id", "")
        booking_id = _id_field("booking_id", "")
    except InvalidInput:
        thread_id = booking_id = None  # a mangled link still opens the page, about nothing in particular
    return _page(thread_id=thread_id, booking_id=booking_id, fragment="sitter/partials/office_body.html")


@bp.route("/office", methods=["POST"])
@role_required("sitter")
def office_note():
    body = request.form.get("body", "")
    thread_id = booking_id = None
    try:
        thread_id = _id_field("thread_id", "That conversation is not one of yours.")
        booking_id = _id_field("booking_id", "That visit is not one of yours.")
        send_office_note(current_user.id, body, thread_id, booking_id)
    except InvalidInput as exc:
        # Nothing was sent: say why and keep every word (and what it is about) for another try.
        return _page(body=body, thread_id=thread_id, booking_id=booking_id, error=str(exc),
                     status=exc.status_code)
    if wants_fragment():
        return _page(thread_id=thread_id, booking_id=booking_id, sent=True)
    flash("Sent to the office. Their answer comes to your Alerts.", "info")
    return redirect(url_for("sitter.office"))
