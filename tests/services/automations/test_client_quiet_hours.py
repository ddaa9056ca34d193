"""Quiet hours in the client's own time (8 p.m.-8 a.m.), and at most 3 automated texts a day."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AutomationRun, Message, OutboxEntry
from app.services.automations.run_job import run_automation
from app.services.messaging.sitter_messages import send_sitter_message
from app.services.people.timezones import client_zone_name, zone_of_number
from tests.support.messaging_builders import booking_thread, outbound_message

FLORIDA = ZoneInfo("America/New_York")  # Miami's area code 305
CALIFORNIA = ZoneInfo("America/Los_Angeles")
CENTRAL = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")


def test_an_automation_due_at_830_pm_for_a_florida_client_waits_while_the_org_is_in_california(make, clock):
    org = make.org(name="Bay Paws", timezone="America/Los_Angeles")
    clock.set(datetime(2026, 11, 24, 20, 30, tzinfo=FLORIDA))  # 5:30 p.m. in California
    client = make.client(org=org, phone_e164="+13055550142")
    booking = make.booking(org=org, client=client, sitter=None, start=clock.now + timedelta(days=2),
                           status="confirmed")
    make.thread(booking=booking, number=make.number("pool", org=org))
    run = make.automation_run(booking, "booking_confirmation", status="scheduled")
    assert run_automation(run.id) == "waiting"
    db.session.rollback()
    run = db.session.get(AutomationRun, run.id)
    assert run.status == "scheduled"
    assert run.scheduled_for == datetime(2026, 11, 25, 8, 0, tzinfo=FLORIDA)  # 8 a.m. in Florida
    assert db.session.scalars(select(OutboxEntry)).all() == []
    clock.set(run.scheduled_for)
    assert run_automation(run.id) == "sent"


def test_the_same_time_for_a_california_client_of_that_org_is_not_quiet(make, clock):
    org = make.org(name="Bay Paws", timezone="America/Los_Angeles")
    clock.set(datetime(2026, 11, 24, 20, 30, tzinfo=FLORIDA))
    client = make.client(org=org, phone_e164="+14155550142")
    booking = make.booking(org=org, client=client, sitter=None, start=clock.now + timedelta(days=2),
                           status="confirmed")
    make.thread(booking=booking, number=make.number("pool", org=org))
    run = make.automation_run(booking, "booking_confirmation", status="scheduled")
    assert run_automation(run.id) == "sent"


def test_an_owner_set_zone_wins_over_the_area_code(make, clock):
    org = make.org(name="Bay Paws", timezone="America/Los_Angeles")
    client = make.client(org=org, phone_e164="+13055550142", timezone="America/Chicago")
    assert client_zone_name(client, org) == "America/Chicago"
    client.timezone = None
    assert client_zone_name(client, org) == "America/New_York"


def test_an_area_spanning_zones_takes_the_orgs_when_it_is_one_of_them_else_the_first():
    assert zone_of_number("+12085550100", "America/Los_Angeles") == "America/Los_Angeles"  # Idaho
    assert zone_of_number("+12085550100", "America/New_York") == "America/Boise"
    assert zone_of_number("not a number", "America/New_York") is None


def test_a_sitter_typing_in_an_open_window_at_night_is_conversation_and_goes_at_once(make, clock):
    clock.set(datetime(2026, 11, 24, 22, 30, tzinfo=FLORIDA))
    client = make.client(phone_e164="+13055550177")
    thread = booking_thread(make, client=client, started_hours_ago=1, sitter_login=True)
    user = thread.booking.sitter.user
    send_sitter_message(user.id, thread.id, "All done, she ate well")
    db.session.rollback()
    [sent] = db.session.scalars(select(OutboxEntry)).all()
    assert "All done, she ate well" in sent.body


def test_a_fourth_automated_text_within_24_hours_waits_until_the_first_is_a_day_old(make, clock):
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=FLORIDA))
    thread = booking_thread(make, started_hours_ago=-30)
    first_at = clock.now - timedelta(hours=20)
    for hours_ago in (20, 10, 2):
        outbound_message(make, thread, body="earlier automated text", created_at=clock.now - timedelta(hours=hours_ago))
    run = make.automation_run(thread.booking, "night_before_reminder", status="scheduled")
    assert run_automation(run.id) == "waiting"
    db.session.rollback()
    assert db.session.get(AutomationRun, run.id).scheduled_for == first_at + timedelta(hours=24)
    assert not db.session.scalars(select(Message).where(Message.body != "earlier automated text")).all()
    clock.set(first_at + timedelta(hours=24))
    assert run_automation(run.id) == "sent"


def due_run(make, clock, org, phone: str, local_time: datetime) -> AutomationRun:
    """A confirmed booking of a client with this number, its reminder due at `local_time`."""
    clock.set(local_time)
    client = make.client(org=org, phone_e164=phone)
    booking = make.booking(org=org, client=client, sitter=None, start=clock.now + timedelta(days=2),
                           status="confirmed")
    make.thread(booking=booking, number=make.number("pool", org=org))
    return make.automation_run(booking, "night_before_reminder", status="scheduled")


def waits_until(run_id: int) -> datetime:
    assert run_automation(run_id) == "waiting"
    db.session.rollback()
    return db.session.get(AutomationRun, run_id).scheduled_for


def test_a_confirmation_planned_in_org_time_is_judged_again_in_the_clients_when_due(make, clock):
    from app.services.bookings.confirmed import on_booking_confirmed

    org = make.org(name="Bay Paws", timezone="America/Los_Angeles")
    clock.set(datetime(2026, 11, 24, 20, 30, tzinfo=FLORIDA))  # 5:30 p.m. for the org: not quiet there
    booking = make.booking(org=org, client=make.client(org=org, phone_e164="+13055550142"), sitter=None,
                           start=clock.now + timedelta(days=2))
    make.number("pool", org=org)
    on_booking_confirmed(booking.id)
    db.session.rollback()
    run = db.session.scalar(select(AutomationRun).where(AutomationRun.booking_id == booking.id,
                                                        AutomationRun.kind == "booking_confirmation"))
    # Planned in org time (5:30 p.m.: at once), so the job ran now, found the client's 8:30 p.m. and waits.
    assert db.session.scalars(select(OutboxEntry)).all() == []
    assert run.status == "scheduled" and run.scheduled_for == datetime(2026, 11, 25, 8, 0, tzinfo=FLORIDA)
    clock.set(run.scheduled_for)
    assert run_automation(run.id) == "sent"
    [sent] = db.session.scalars(select(OutboxEntry)).all()
    assert sent.to_e164 == "+13055550142"


def test_the_law_ends_texts_at_8_pm_in_florida_and_oklahoma_even_when_the_org_allows_later(make, clock):
    org = make.org(name="Late Paws", timezone="America/Chicago")
    org.quiet_start_hour, org.quiet_end_hour = 22, 7  # the owner's own, wider than the law allows
    run = due_run(make, clock, org, "+13055550142", datetime(2026, 11, 24, 20, 30, tzinfo=FLORIDA))
    assert waits_until(run.id) == datetime(2026, 11, 25, 8, 0, tzinfo=FLORIDA)  # 8 a.m., not the org's 7
    run = due_run(make, clock, org, "+14055550100", datetime(2026, 11, 24, 20, 30, tzinfo=CENTRAL))  # Oklahoma
    assert waits_until(run.id) == datetime(2026, 11, 25, 8, 0, tzinfo=CENTRAL)


def test_elsewhere_the_federal_9_pm_holds_and_8_30_pm_is_allowed(make, clock):
    org = make.org(name="Late Paws", timezone="America/Chicago")
    org.quiet_start_hour, org.quiet_end_hour = 22, 7
    texas = due_run(make, clock, org, "+12145550100", datetime(2026, 11, 24, 20, 30, tzinfo=CENTRAL))
    assert run_automation(texas.id) == "sent"
    new_york = due_run(make, clock, org, "+12125550100", datetime(2026, 11, 24, 21, 30, tzinfo=NEW_YORK))
    assert waits_until(new_york.id) == datetime(2026, 11, 25, 8, 0, tzinfo=NEW_YORK)
    early = due_run(make, clock, org, "+12125550111", datetime(2026, 11, 25, 7, 30, tzinfo=NEW_YORK))
    assert waits_until(early.id) == datetime(2026, 11, 25, 8, 0, tzinfo=NEW_YORK)  # the org's 7 a.m. is too early


def test_with_the_default_hours_every_client_is_quiet_from_8_pm(make, clock):
    org = make.org(name="Default Paws", timezone="America/New_York")
    assert (org.quiet_start_hour, org.quiet_end_hour) == (20, 8)
    run = due_run(make, clock, org, "+12125550100", datetime(2026, 11, 24, 20, 30, tzinfo=NEW_YORK))
    assert waits_until(run.id) == datetime(2026, 11, 25, 8, 0, tzinfo=NEW_YORK)


def test_the_state_comes_from_the_area_code():
    from app.services.people.timezones import state_of_number

    assert [state_of_number(n) for n in ("+13055550142", "+14055550100", "+12145550100", "+442079460000",
                                         "not a number")] == ["Florida", "Oklahoma", "Texas", None, None]


def _florida_client_of_a_california_owner(make, clock, login_as):
    """A California org's owner logged in at noon their time; a confirmed booking of a Florida client."""
    org = make.org(name="Bay Paws", timezone="America/Los_Angeles")
    login_as(make.user("owner", org=org))
    clock.set(datetime(2026, 11, 24, 12, 0, tzinfo=CALIFORNIA))
    customer = make.client(org=org, phone_e164="+13055550142")
    return make.booking(org=org, client=customer, sitter=None, status="confirmed")


@pytest.mark.parametrize("page_of", [lambda booking: f"/admin/bookings/{booking.id}",
                                     lambda booking: "/admin/automations", lambda booking: "/admin"],
                         ids=["booking page", "automations page", "home page"])
def test_the_pages_show_when_an_automation_reaches_the_client_in_their_own_time(make, clock, client, login_as,
                                                                                 page_of):
    booking = _florida_client_of_a_california_owner(make, clock, login_as)
    make.automation_run(booking, "night_before_reminder", status="scheduled",
                        scheduled_for=datetime(2026, 11, 25, 8, 0, tzinfo=FLORIDA))
    page = client.get(page_of(booking)).get_data(as_text=True)
    assert "Wed 25 Nov, 5:00 AM" in page and "(Wed 25 Nov, 8:00 AM their time)" in page


def no_quiet_hours_of_its_own(make, **kw):
    """An org whose owner set the same hour twice: no extra quiet hours of its own."""
    from app.services.orgs.settings import update_org_settings

    org = make.org(name="Any Hour Paws", **kw)
    update_org_settings(org.id, name=org.name, timezone=org.timezone, grace_minutes=60, quiet_start_hour=0,
                        quiet_end_hour=0, policy_mode="block", visit_followup_enabled=True)
    db.session.refresh(org)
    assert (org.quiet_start_hour, org.quiet_end_hour) == (0, 0)
    return org


def test_an_org_with_no_quiet_hours_of_its_own_still_keeps_the_laws(make, clock):
    org = no_quiet_hours_of_its_own(make)
    late = due_run(make, clock, org, "+12125550100", datetime(2026, 11, 24, 21, 30, tzinfo=NEW_YORK))
    assert waits_until(late.id) == datetime(2026, 11, 25, 8, 0, tzinfo=NEW_YORK)
    early = due_run(make, clock, org, "+12125550111", datetime(2026, 11, 25, 7, 30, tzinfo=NEW_YORK))
    assert waits_until(early.id) == datetime(2026, 11, 25, 8, 0, tzinfo=NEW_YORK)
    florida = due_run(make, clock, org, "+13055550142", datetime(2026, 11, 24, 20, 15, tzinfo=FLORIDA))
    assert waits_until(florida.id) == datetime(2026, 11, 25, 8, 0, tzinfo=FLORIDA)
    # Inside the law's day it goes at once (the org adds no hours of its own: 8:30 p.m. is fine in New York).
    evening = due_run(make, clock, org, "+12125550122", datetime(2026, 11, 24, 20, 30, tzinfo=NEW_YORK))
    assert run_automation(evening.id) == "sent"


def test_a_confirmation_at_night_for_such_an_org_is_planned_for_the_morning(make, clock):
    from app.services.bookings.confirmed import on_booking_confirmed

    org = no_quiet_hours_of_its_own(make)
    clock.set(datetime(2026, 11, 24, 23, 0, tzinfo=NEW_YORK))
    booking = make.booking(org=org, client=make.client(org=org, phone_e164="+12125550100"), sitter=None,
                           start=clock.now + timedelta(days=2))
    make.number("pool", org=org)
    on_booking_confirmed(booking.id)
    db.session.rollback()
    run = db.session.scalar(select(AutomationRun).where(AutomationRun.booking_id == booking.id,
                                                        AutomationRun.kind == "booking_confirmation"))
    assert (run.status, run.scheduled_for) == ("scheduled", datetime(2026, 11, 25, 8, 0, tzinfo=NEW_YORK))
    assert db.session.scalars(select(OutboxEntry)).all() == []


def test_the_orgs_own_hours_only_add_to_the_laws(make, clock):
    org = make.org(name="Lunch Paws", timezone="America/New_York")
    org.quiet_start_hour, org.quiet_end_hour = 13, 15  # a quiet lunch of its own, inside the law's day
    lunch = due_run(make, clock, org, "+12125550100", datetime(2026, 11, 24, 13, 30, tzinfo=NEW_YORK))
    assert waits_until(lunch.id) == datetime(2026, 11, 24, 15, 0, tzinfo=NEW_YORK)
    night = due_run(make, clock, org, "+12125550111", datetime(2026, 11, 24, 22, 0, tzinfo=NEW_YORK))
    assert waits_until(night.id) == datetime(2026, 11, 25, 8, 0, tzinfo=NEW_YORK)


def in_california(make):
    org = make.default_org
    org.timezone = "America/Los_Angeles"
    db.session.commit()
    return org


def test_an_automated_text_sent_again_from_queue_health_keeps_the_clients_quiet_hours(make, clock, client,
                                                                                      login_as):
    from app.models import EventLog

    org = in_california(make)
    clock.set(datetime(2026, 11, 24, 20, 30, tzinfo=FLORIDA))  # 5:30 p.m. for the org, 8:30 p.m. for the client
    login_as(make.user("owner", org=org))
    thread = booking_thread(make, client=make.client(org=org, phone_e164="+13055550142"))
    failed = outbound_message(make, thread, status="failed", error_code="30003")
    page = client.post(f"/admin/queue/messages/{failed.id}/retry", follow_redirects=True).get_data(as_text=True)
    assert ("It is quiet hours where the client is: an automated text may not reach them before "
            "5:00 AM (8:00 AM their time). Send it again then.") in page
    db.session.expire_all()
    assert db.session.get(Message, failed.id).status == "failed"
    assert db.session.scalar(select(EventLog.id).where(EventLog.kind == "message.retried")) is None
    # The owner's own words in the thread are conversation: they go now.
    typed = client.post(f"/admin/threads/{thread.id}/text", data={"body": "Sorry, one more thing"},
                        follow_redirects=True)
    assert typed.status_code == 200
    assert db.session.scalar(select(OutboxEntry.id).join(Message, Message.id == OutboxEntry.message_id)
                             .where(Message.body == "Sorry, one more thing")) is not None
    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=FLORIDA))
    login_as(make.user("owner", org=org))  # a login session follows the (frozen) clock
    client.post(f"/admin/queue/messages/{failed.id}/retry")
    db.session.expire_all()
    assert db.session.get(Message, failed.id).status == "sent"


def test_the_retry_step_and_its_outcome_say_when_in_both_zones(make, clock, client, login_as):
    from tests.support.factories import CONFIRMED

    org = in_california(make)
    clock.set(datetime(2026, 11, 24, 20, 30, tzinfo=FLORIDA))
    login_as(make.user("owner", org=org))
    thread = booking_thread(make, client=make.client(org=org, phone_e164="+13055550142"),
                            started_hours_ago=-30)
    run = make.automation_run(thread.booking, "night_before_reminder", status="failed", reason="broken")
    step = client.post(f"/admin/automations/runs/{run.id}/retry").get_data(as_text=True)
    assert "at 5:00 AM (8:00 AM their time), after quiet hours." in step
    client.post(f"/admin/automations/runs/{run.id}/retry", data=CONFIRMED)
    db.session.expire_all()
    run = db.session.get(AutomationRun, run.id)
    assert (run.status, run.scheduled_for) == ("scheduled", datetime(2026, 11, 25, 8, 0, tzinfo=FLORIDA))


def test_the_pages_show_when_a_run_planned_in_org_time_will_really_go(make, clock, client, login_as):
    booking = _florida_client_of_a_california_owner(make, clock, login_as)
    # 6 p.m. in California is 9 p.m. in Florida: the run will wait for the client's 8 a.m.
    make.automation_run(booking, "night_before_reminder", status="scheduled",
                        scheduled_for=datetime(2026, 11, 24, 18, 0, tzinfo=CALIFORNIA))
    for page in ("/admin/automations", "/admin", f"/admin/bookings/{booking.id}"):
        html = client.get(page).get_data(as_text=True)
        assert "Wed 25 Nov, 5:00 AM" in html and "(Wed 25 Nov, 8:00 AM their time)" in html, page
        assert "Tue 24 Nov, 6:00 PM" not in html, page


def test_after_a_confirm_the_owner_is_told_when_the_text_goes_in_both_zones(make, clock, client, login_as):
    from tests.support.factories import CONFIRMED

    org = in_california(make)
    clock.set(datetime(2026, 11, 24, 20, 30, tzinfo=FLORIDA))  # 5:30 p.m. for the org
    login_as(make.user("owner", org=org))
    make.number("pool")
    booking = make.booking(client=make.client(name="Taylor Brooks", phone_e164="+13055550142"), sitter=None,
                           start=clock.now + timedelta(days=2))
    page = client.post(f"/admin/bookings/{booking.id}/confirm", data=CONFIRMED,
                       follow_redirects=True).get_data(as_text=True)
    assert "Taylor will be texted at 5:00 AM (8:00 AM their time) (after quiet hours)" in page
