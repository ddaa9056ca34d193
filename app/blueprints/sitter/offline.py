"""Today's visit card for the service worker to keep on the phone (app.services.visits.offline_card)."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from app.blueprints.auth.routes import role_required
from app.blueprints.sitter import bp
from app.services.visits.offline_card import offline_card


@bp.route("/visits/<int:booking_id>/card")
@role_required("sitter")
def visit_card(booking_id: int):
    """JSON, only within the care-notes span and only for the assigned sitter (404 otherwise);
    never cached by the browser (the after-request hook sets no-store): the worker stores it
    itself, with its expiry."""
    return jsonify(offline_card(current_user.id, booking_id).as_json())
