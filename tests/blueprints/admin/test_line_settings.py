"""The org's line settings on the settings page: office phone, out-of-window reply, cool-off days."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import Org


def settings_form(org: Org, **changes) -> dict:
    form = {"name": org.name, "timezone": org.timezone, "grace_minutes": "60", "quiet_start_hour": "21",
            "quiet_end_hour": "8", "policy_mode": "block", "visit_followup_enabled": "y",
            "care_notes_lead_minutes": "60", "number_cooloff_days": "7"}
    form.update(changes)
    return form


def test_owner_sets_the_office_phone_reply_and_cool_off(client, login_as, make):
    owner = make.user("owner")
    login_as(owner)
    org = db.session.get(Org, owner.org_id)
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "Office phone for calls" in page and 'name="out_of_window_reply_enabled"' in page
    response = client.post("/admin/settings", data=settings_form(
        org, office_phone_e164="(202) 555-0199", out_of_window_reply_enabled="y", number_cooloff_days="3"),
        follow_redirects=True)
    assert "Settings saved." in response.get_data(as_text=True)
    db.session.expire_all()
    org = db.session.get(Org, owner.org_id)
    assert (org.office_phone_e164, org.out_of_window_reply_enabled, org.number_cooloff_days) == (
        "+12025550199", True, 3)


def test_a_bad_office_phone_is_refused_at_its_field_and_nothing_is_saved(client, login_as, make):
    owner = make.user("owner")
    login_as(owner)
    org = db.session.get(Org, owner.org_id)
    response = client.post("/admin/settings", data=settings_form(org, office_phone_e164="call me maybe",
                                                                   number_cooloff_days="3"))
    assert response.status_code == 422 and "is not a phone number" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Org, owner.org_id).number_cooloff_days == 7


def test_owner_turns_front_desk_only_mode_on_and_off(client, login_as, make):
    owner = make.user("owner")
    make.number("front_desk", org=db.session.get(Org, owner.org_id))
    login_as(owner)
    org = db.session.get(Org, owner.org_id)
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'name="front_desk_only"' in page and "Front-desk-only mode" in page
    response = client.post("/admin/settings", data=settings_form(org, front_desk_only="y"), follow_redirects=True)
    assert "Settings saved." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Org, owner.org_id).front_desk_only is True
    [box] = re.findall(r'<input[^>]*name="front_desk_only"[^>]*>', client.get("/admin/settings").get_data(as_text=True))
    assert "checked" in box  # the page shows the mode is on
    client.post("/admin/settings", data=settings_form(org))  # unchecked: off
    db.session.expire_all()
    assert db.session.get(Org, owner.org_id).front_desk_only is False


def test_a_refused_setting_is_named_at_its_field_and_nothing_is_saved(client, login_as, make):
    owner = make.user("owner")
    login_as(owner)
    org = db.session.get(Org, owner.org_id)
    response = client.post("/admin/settings", data=settings_form(org, number_cooloff_days="3", front_desk_only="y",
                                                                 quiet_start_hour="22", quiet_end_hour="7"))
    # the org has no front desk
    assert response.status_code == 422 and "Add an active front-desk number first" in response.get_data(as_text=True)
    db.session.expire_all()
    org = db.session.get(Org, owner.org_id)
    assert (org.front_desk_only, org.number_cooloff_days, org.quiet_start_hour, org.quiet_end_hour) == (
        False, 7, 20, 8)


def test_the_settings_page_says_the_law_bounds_quiet_hours(client, login_as, make):
    login_as(make.user("owner"))
    page = client.get("/admin/settings").get_data(as_text=True)
    hint = re.search(r'<p class="muted hint" data-quiet-law>(.*?)</p>', page, re.S).group(1)
    assert "The law's quiet hours always hold" in hint and "8 p.m. in Florida and Oklahoma" in hint
    assert "the same hour in both fields means no extra quiet hours of your own" in hint
    # Right after the two hour fields.
    assert page.index('name="quiet_end_hour"') < page.index("data-quiet-law") < page.index('name="policy_mode"')


def test_the_same_hour_twice_saves_as_no_quiet_hours_of_the_orgs_own(client, login_as, make):
    owner = make.user("owner")
    login_as(owner)
    org = db.session.get(Org, owner.org_id)
    response = client.post("/admin/settings", data=settings_form(org, quiet_start_hour="0", quiet_end_hour="0"),
                           follow_redirects=True)
    assert "Settings saved." in response.get_data(as_text=True)
    db.session.expire_all()
    org = db.session.get(Org, owner.org_id)
    assert (org.quiet_start_hour, org.quiet_end_hour) == (0, 0)  # the law's still hold (test_client_quiet_hours)
