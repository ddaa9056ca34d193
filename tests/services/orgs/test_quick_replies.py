"""Quick replies: the org's list (defaults until an owner edits it), validated line by line, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db
from app.models import EventLog, Org
from app.services.orgs.settings import (
    DEFAULT_QUICK_REPLIES,
    org_quick_replies,
    parse_quick_replies,
    update_org_settings,
)


def _save(org: Org, quick_replies: str | None):
    return update_org_settings(org.id, name=org.name, timezone=org.timezone, grace_minutes=org.grace_minutes,
                               quiet_start_hour=org.quiet_start_hour, quiet_end_hour=org.quiet_end_hour,
                               policy_mode=org.policy_mode, visit_followup_enabled=org.visit_followup_enabled,
                               actor="user:1", quick_replies=quick_replies)


def test_a_new_org_has_the_three_door_replies(make):
    org = make.org()
    assert org_quick_replies(org) == ["On my way", "All done, door locked", "Fed and watered"]
    assert tuple(org_quick_replies(org)) == DEFAULT_QUICK_REPLIES


def test_lines_are_trimmed_blank_lines_dropped_and_spaces_collapsed():
    assert parse_quick_replies("  Home  safe \n\n\tKeys in the\tlockbox\r\n") == ["Home safe", "Keys in the lockbox"]
    assert parse_quick_replies("") == []


@pytest.mark.parametrize(("text", "words"), [
    ("x" * 161, "Line 1 is 161 characters"),
    ("On my way\non my WAY", "Line 2 repeats 'on my WAY'"),
    ("\n".join(f"Reply {n}" for n in range(9)), "That is 9 quick replies; keep to 8"),
    ("Fed\x00 and watered", "Line 1 has a character a text cannot carry"),
    ("On my way\nCall me on 2O2 555 Ol3l", "Line 2 has a phone number, an email or a payment handle"),
    ("Pay me on venmo @sasha", "Line 1 has a phone number, an email or a payment handle"),
])
def test_a_bad_list_is_refused_at_its_line(text, words):
    with pytest.raises(InvalidInput) as refused:
        parse_quick_replies(text)
    assert words in str(refused.value) and refused.value.field == "quick_replies"


def test_owners_edit_the_list_and_the_change_is_audited(make):
    org = make.org()
    _save(org, "On my way\nBack tomorrow at 8")
    db.session.expire_all()
    org = db.session.get(Org, org.id)
    assert org_quick_replies(org) == ["On my way", "Back tomorrow at 8"]
    [event] = db.session.scalars(select(EventLog).where(EventLog.kind == "settings.changed")).all()
    assert event.payload["quick_replies"] == ["On my way", "Back tomorrow at 8"]

    _save(org, "")  # an empty list: no quick replies at all (not the defaults)
    db.session.expire_all()
    assert org_quick_replies(db.session.get(Org, org.id)) == []


def test_a_refused_list_changes_nothing(make):
    org = make.org()
    with pytest.raises(InvalidInput):
        _save(org, "On my way\n" + "y" * 200)
    db.session.rollback()
    assert db.session.get(Org, org.id).quick_replies is None


def test_none_leaves_them_as_they_are(make):
    org = make.org()
    _save(org, "Home safe")
    _save(org, None)
    db.session.expire_all()
    assert org_quick_replies(db.session.get(Org, org.id)) == ["Home safe"]
