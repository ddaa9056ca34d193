"""What a sitter reads about their visits besides messages: care notes (around the visit only)
and the next seven days. Each is a partial the sitter pages load with one include."""

from __future__ import annotations

from flask_login import current_user

from app.blueprints.auth.routes import role_required
from app.blueprints.sitter import bp
from app.services.people.care_notes import sitter_care_notes
from app.services.people.visit_address import maps_url
from app.services.queries.schedule import sitter_time_off, sitter_upcoming
from app.web.templating import render_page_or_partial


@bp.route("/threads/<int:thread_id>/care-notes")
@role_required("sitter")
def care_notes(thread_id: int):
    """The client's care notes, only from the org's lead time before the window until it ends (the
    service decides, on every request); another sitter's thread is a 404."""
    notes = sitter_care_notes(current_user.id, thread_id)
    return render_page_or_partial("sitter/care_notes.html", "sitter/partials/care_notes_body.html",
                                  care=notes, thread_id=thread_id)


@bp.route("/upcoming")
@role_required("sitter")
def upcoming():
    return render_page_or_partial("sitter/upcoming.html", "sitter/partials/upcoming_body.html",
                                  visits=sitter_upcoming(current_user.id), tz=current_user.org.timezone,
                                  time_off=sitter_time_off(current_user.id))


bp.add_app_template_filter(maps_url, "maps_url")
