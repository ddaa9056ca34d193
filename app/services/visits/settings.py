"""The org's visit settings: when a visit counts as late, and the optional "arrived" text."""

from __future__ import annotations

from app.errors import InvalidInput
from app.extensions import db
from app.models import Org
from app.services.audit.events import record_event

LATE_MINUTES_RANGE = (1, 240)


def update_visit_settings(org_id: int, *, late_minutes: int | None, arrival_texts: bool,
                          actor: str = "system") -> Org:
    """Validate and set both in the caller's transaction: the settings page commits them with the
    org's other settings (app.services.orgs.settings), so a refusal there saves none of them."""
    org = db.session.get(Org, org_id)
    late_minutes = org.visit_late_minutes if late_minutes is None else late_minutes
    low, high = LATE_MINUTES_RANGE
    if not low <= late_minutes <= high:
        raise InvalidInput(f"Use {low} to {high} minutes.", field="visit_late_minutes")
    changed = {}
    if org.visit_late_minutes != late_minutes:
        changed["visit_late_minutes"] = org.visit_late_minutes = late_minutes
    if org.visit_arrival_texts != bool(arrival_texts):
        changed["visit_arrival_texts"] = org.visit_arrival_texts = bool(arrival_texts)
    if changed:
        record_event(org_id, "settings.changed", actor=actor, **changed)
    return org
