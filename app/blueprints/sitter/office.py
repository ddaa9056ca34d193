"""A sitter writing to the office at any time: `POST /sitter/office` (body, optional thread_id)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.auth.routes import role_required
from app.blueprints.sitter import bp
from app.errors import InvalidInput
from app.services.messaging.office_notes import send_office_note, sitter_notes
from app.web.templating import wants_fragment


def _thread_id() -> int | None:
    raw = (request.values.get("thread_id") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) >= 2**63:
        raise InvalidInput("That conversation is not one of yours.", field="thread_id")
    return int(raw)


def _page(body: str = "", thread_id: int | None = None, error: str | None = None, sent: bool = False, status=200,
          fragment: str = "sitter/partials/office_form.html"):
    template = fragment if wants_fragment() else "sitter/office.html"
    return render_template(template, body=body, thread_id=thread_id, error=error, sent=sent,
                           notes=sitter_notes(current_user.id), tz=current_user.org.timezone), status


@bp.route("/office", methods=["GET"])
@role_required("sitter")
def office():
    thread_id = request.args.get("thread_id", type=int)
    return _page(thread_id=thread_id if thread_id and thread_id < 2**63 else None,
                 fragment="sitter/partials/office_body.html")


@bp.route("/office", methods=["POST"])
@role_required("sitter")
def office_note():
    body = request.form.get("body", "")
    try:
        thread_id = _thread_id()
        send_office_note(current_user.id, body, thread_id)
    except InvalidInput as exc:
        # Nothing was sent: say why and keep every word for another try.
        return _page(body=body, thread_id=None, error=str(exc), status=exc.status_code)
    if wants_fragment():
        return _page(thread_id=thread_id, sent=True)
    flash("Sent to the office. Their answer comes to your Alerts.", "info")
    return redirect(url_for("sitter.office"))
