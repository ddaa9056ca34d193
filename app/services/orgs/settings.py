"""The org's own settings, changed by owners."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.errors import InvalidInput
from app.extensions import db
from app.models import Org
from app.models.orgs import POLICY_MODES, WEEK_STARTS
from app.services.audit.events import record_event


def validate_timezone(name: str) -> str:
    name = (name or "").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{name!r} is not a time zone (e.g. America/New_York).", field="timezone") from None
    return name


def update_org_settings(org_id: int, *, name: str, timezone: str, grace_minutes: int,
                        quiet_start_hour: int, quiet_end_hour: int, policy_mode: str,
                        visit_followup_enabled: bool, care_notes_lead_minutes: int | None = None,
                        actor: str = "system", calendar_week_start: str | None = None) -> Org:
    org = db.session.get(Org, org_id)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Enter the business name.", field="name")
    timezone = validate_timezone(timezone)
    if not 0 <= grace_minutes <= 1440:
        raise InvalidInput("Grace must be between 0 and 1440 minutes.", field="grace_minutes")
    for field, hour in (("quiet_start_hour", quiet_start_hour), ("quiet_end_hour", quiet_end_hour)):
        if not 0 <= hour <= 23:
            raise InvalidInput("Use an hour from 0 to 23.", field=field)
    if care_notes_lead_minutes is None:
        care_notes_lead_minutes = org.care_notes_lead_minutes
    if not 0 <= care_notes_lead_minutes <= 1440:
        raise InvalidInput("Use 0 to 1440 minutes.", field="care_notes_lead_minutes")
    calendar_week_start = calendar_week_start or org.calendar_week_start
    if calendar_week_start not in WEEK_STARTS:
        raise InvalidInput(f"Choose one of {', '.join(WEEK_STARTS)}.", field="calendar_week_start")
    if policy_mode not in POLICY_MODES:
        raise InvalidInput(f"Choose one of {', '.join(POLICY_MODES)}.", field="policy_mode")
    before = {"name": org.name, "timezone": org.timezone, "grace_minutes": org.grace_minutes,
              "quiet_start_hour": org.quiet_start_hour, "quiet_end_hour": org.quiet_end_hour,
              "policy_mode": org.policy_mode, "visit_followup_enabled": org.visit_followup_enabled,
              "care_notes_lead_minutes": org.care_notes_lead_minutes, "calendar_week_start": org.calendar_week_start}
    org.name, org.timezone, org.grace_minutes = name, timezone, grace_minutes
    org.quiet_start_hour, org.quiet_end_hour = quiet_start_hour, quiet_end_hour
    org.policy_mode, org.visit_followup_enabled = policy_mode, visit_followup_enabled
    org.care_notes_lead_minutes = care_notes_lead_minutes
    org.calendar_week_start = calendar_week_start
    changed = {k: getattr(org, k) for k, v in before.items() if getattr(org, k) != v}
    if changed:
        record_event(org_id, "settings.changed", actor=actor, **changed)
    db.session.commit()
    return org
