"""Calls on the owner's thread page (a template helper: the page includes admin/partials/calls.html)."""

from __future__ import annotations

from app.blueprints.admin import bp
from app.services.calls.queries import calls_of_thread, outcome_label


@bp.context_processor
def _call_helpers() -> dict:
    return {"calls_for_thread": calls_of_thread, "call_outcome_label": outcome_label}
