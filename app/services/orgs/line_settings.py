"""The org's settings for its phone lines: the office phone calls fall back to, the out-of-window
auto reply, how long a number cools off for a client after another sitter's visit, and
front-desk-only mode (every booking thread on the front desk: a sole proprietor's one number)."""

from __future__ import annotations

from app.errors import InvalidInput
from app.extensions import db
from app.models import Org
from app.services.audit.events import record_event
from app.services.numbers.choice import front_desk_number_id
from app.services.people.phones import to_e164

MAX_COOLOFF_DAYS = 90


def apply_line_settings(org_id: int, *, office_phone: str | None, out_of_window_reply_enabled: bool,
                        number_cooloff_days: int | None, front_desk_only: bool | None = None,
                        actor: str = "system") -> Org:
    """Validate and set them in the caller's transaction (the settings page commits with the rest).
    front_desk_only None: left as it is. It changes the number of threads created from now on;
    a thread keeps the number it has."""
    org = db.session.get(Org, org_id)
    desk_only = org.front_desk_only if front_desk_only is None else bool(front_desk_only)
    if desk_only and not org.front_desk_only and front_desk_number_id(org_id) is None:
        raise InvalidInput("Add an active front-desk number first: in this mode every conversation uses it.",
                           field="front_desk_only")
    office = to_e164(office_phone, field="office_phone_e164") if (office_phone or "").strip() else None
    days = org.number_cooloff_days if number_cooloff_days is None else number_cooloff_days
    if not 0 <= days <= MAX_COOLOFF_DAYS:
        raise InvalidInput(f"Use 0 to {MAX_COOLOFF_DAYS} days.", field="number_cooloff_days")
    before = {"office_phone_e164": org.office_phone_e164, "number_cooloff_days": org.number_cooloff_days,
              "out_of_window_reply_enabled": org.out_of_window_reply_enabled, "front_desk_only": org.front_desk_only}
    org.office_phone_e164, org.number_cooloff_days, org.front_desk_only = office, days, desk_only
    org.out_of_window_reply_enabled = bool(out_of_window_reply_enabled)
    changed = {k: getattr(org, k) for k, v in before.items() if getattr(org, k) != v}
    if changed:
        record_event(org_id, "settings.lines_changed", actor=actor, **changed)
    return org
