"""The org's own settings, changed by owners."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.errors import InvalidInput
from app.extensions import db
from app.models import Org
from app.models.orgs import POLICY_MODES, WEEK_STARTS
from app.services.audit.events import record_event
from app.services.messaging.content_policy import find_violations

# What a sitter taps at the door most; each goes into the compose field, never sent by itself.
DEFAULT_QUICK_REPLIES = ("On my way", "All done, door locked", "Fed and watered")
MAX_QUICK_REPLIES = 8
MAX_QUICK_REPLY_LENGTH = 160  # one SMS segment
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def org_quick_replies(org: Org) -> list[str]:
    """The org's quick replies (the defaults until an owner edits them; an empty list: none)."""
    return list(DEFAULT_QUICK_REPLIES) if org.quick_replies is None else list(org.quick_replies)


def parse_quick_replies(text: str) -> list[str]:
    """One reply a line, blank lines dropped; InvalidInput names the first line that is not allowed."""
    replies: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        reply = " ".join(line.split())  # tabs and runs of spaces are one space
        if not reply:
            continue
        if _CONTROL.search(reply):
            raise InvalidInput(f"Line {number} has a character a text cannot carry.", field="quick_replies")
        if len(reply) > MAX_QUICK_REPLY_LENGTH:
            raise InvalidInput(f"Line {number} is {len(reply)} characters; keep a quick reply to "
                               f"{MAX_QUICK_REPLY_LENGTH}.", field="quick_replies")
        if find_violations(reply)[0]:  # it goes out as the sitter's text: the same policy applies
            raise InvalidInput(f"Line {number} has a phone number, an email or a payment handle; a sitter's "
                               "text may not carry one.", field="quick_replies")
        if reply.casefold() in seen:
            raise InvalidInput(f"Line {number} repeats {reply!r}.", field="quick_replies")
        seen.add(reply.casefold())
        replies.append(reply)
    if len(replies) > MAX_QUICK_REPLIES:
        raise InvalidInput(f"That is {len(replies)} quick replies; keep to {MAX_QUICK_REPLIES} so they fit "
                           "a phone's screen.", field="quick_replies")
    return replies


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
                        actor: str = "system", calendar_week_start: str | None = None,
                        support_contact: str | None = None,
                        consent_wording: str | None = None, messaging_service_sid: str | None = None,
                        retention_days: int | None = None, quick_replies: str | None = None) -> Org:
    """Validate everything first, then save and audit what changed (one commit). `quick_replies`:
    one a line (None: left as they are)."""
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
    replies = None if quick_replies is None else parse_quick_replies(quick_replies)
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
    if replies is not None and replies != org_quick_replies(org):
        org.quick_replies = changed["quick_replies"] = replies
    changed.update(_compliance_settings(org, support_contact, consent_wording, messaging_service_sid,
                                        retention_days))
    if changed:
        record_event(org_id, "settings.changed", actor=actor, **changed)
    db.session.commit()
    return org


_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")


def _compliance_settings(org: Org, support_contact: str | None, consent_wording: str | None,
                         messaging_service_sid: str | None, retention_days: int | None) -> dict:
    """Consent and carrier settings (docs/compliance.md); returns what changed. The consent
    wording is versioned: a new wording is a new version, so the ledger says which one a client saw.
    None for any of them: left as it is."""
    changed = {}
    contact = (support_contact or "").strip() or None
    if support_contact is not None and contact != org.support_contact:
        org.support_contact = changed["support_contact"] = contact
    wording = (consent_wording or "").strip() or None
    if wording != org.consent_wording and consent_wording is not None:
        org.consent_wording = wording
        org.consent_wording_version = changed["consent_wording_version"] = (org.consent_wording_version or 1) + 1
    sid = (messaging_service_sid or "").strip() or None
    if sid is not None and not _SERVICE_SID.fullmatch(sid):
        raise InvalidInput("A Messaging Service SID is MG followed by 32 letters and digits.",
                           field="messaging_service_sid")
    if messaging_service_sid is not None and sid != org.messaging_service_sid:
        org.messaging_service_sid = changed["messaging_service_sid"] = sid
    if retention_days is not None:
        if not 30 <= retention_days <= 36500:
            raise InvalidInput("Use 30 to 36500 days.", field="retention_days")
        if retention_days != org.retention_days:
            org.retention_days = changed["retention_days"] = retention_days
    return changed
