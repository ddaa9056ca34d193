"""Visits for owners: the booking page, calendar and Today show each visit's state and check times;
checklists per service; "don't send this sitter again" respected by assignment; the settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Alert, Booking
from app.models.visits import ServiceChecklist, SitterExclusion
from app.services.bookings.lifecycle import change_sitter
from app.services.visits.checks import check_in
from app.services.visits.reports import submit_visit_report
from tests.support.factories import CONFIRMED
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York


@pytest.fixture
def owner(make, login_as):
    user = make.user("owner")
    login_as(user)
    return user


def test_the_booking_page_shows_check_in_and_the_report(client, owner, make, clock):
    clock.set(START - timedelta(minutes=5))
    visit = make_visit(make, start=START, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    page = client.get(f"/admin/bookings/{visit.booking.id}").get_data(as_text=True)
    assert 'data-visit-state="due"' in page and "No visit report yet." in page
    check_in(visit.user.id, visit.booking.id)
    clock.advance(minutes=30)
    submit_visit_report(visit.user.id, visit.booking.id, note="Biscuit was happy.", checklist=["Walk"])
    page = client.get(f"/admin/bookings/{visit.booking.id}").get_data(as_text=True)
    assert 'data-visit-state="in_progress"' in page and "Wed 25 Nov, 8:55 AM" in page
    assert "Biscuit was happy." in page and "<strong>Done:</strong> Walk" in page
    assert "Texted to the client" in page


def test_calendar_and_today_show_each_visit_state(client, owner, make, clock):
    clock.set(START + timedelta(minutes=20))
    late = make_visit(make, start=START, client=make.client(name="Late Larry"))
    going = make_visit(make, start=START, client=make.client(name="Going Gina"))
    later = make_visit(make, start=START + timedelta(hours=3), client=make.client(name="Later Lou"))
    clock.set(START + timedelta(minutes=5))
    check_in(going.user.id, going.booking.id)
    clock.set(START + timedelta(minutes=20))
    for url in ("/admin/calendar", "/admin"):
        page = client.get(url).get_data(as_text=True)
        for visit, state in ((late, "late"), (going, "in_progress"), (later, "upcoming")):
            assert f'data-visit-state="{state}" data-visit-booking="{visit.booking.id}"' in page, (url, state)
    calendar = client.get("/admin/calendar").get_data(as_text=True)
    assert "in 9:05 AM" in calendar  # the check-in time beside the state
    assert 'hx-trigger="every 30s' in calendar  # states refresh while the page is open


def test_owners_edit_the_checklist_per_service(client, owner, make):
    make.booking(service="Dog walk")
    page = client.get("/admin/visits/checklists").get_data(as_text=True)
    assert 'data-checklist="Dog walk"' in page and "Fresh water" in page
    response = client.post("/admin/visits/checklists", data={"service": "Dog walk", "items": "Walk\nWater bowl"})
    assert response.status_code == 302
    assert db.session.scalar(select(ServiceChecklist.items)) == ["Walk", "Water bowl"]
    bad = client.post("/admin/visits/checklists", data={"service": "Dog walk", "items": "x" * 41})
    assert bad.status_code == 422 and "under 40 characters" in bad.get_data(as_text=True)
    bad = client.post("/admin/visits/checklists", data={"service": "Dog walk", "items": "Call 202-555-0100"})
    assert bad.status_code == 422 and "Keep phone numbers" in bad.get_data(as_text=True)
    assert db.session.scalar(select(ServiceChecklist.items)) == ["Walk", "Water bowl"]


def test_a_sitter_marked_for_a_client_is_refused_by_every_assignment_form(client, owner, make, clock):
    alex = make.client(name="Alex Morgan")
    sasha, devon = make.sitter(name="Sasha Lee"), make.sitter(name="Devon Walker")
    response = client.post(f"/admin/clients/{alex.id}/exclusions", data={"sitter_id": sasha.id, "reason": "rude"})
    assert response.status_code == 200 and "has no upcoming booking with Alex Morgan" in response.get_data(as_text=True)
    assert db.session.scalar(select(SitterExclusion)) is None  # the confirm step comes first
    response = client.post(f"/admin/clients/{alex.id}/exclusions",
                           data={"sitter_id": sasha.id, "reason": "rude", **CONFIRMED})
    assert response.status_code == 302
    assert db.session.scalar(select(Alert).where(Alert.kind == "visit.needs_new_sitter")) is None  # none to list
    page = client.get(f"/admin/clients/{alex.id}").get_data(as_text=True)
    assert 'data-excluded-sitter="Sasha Lee"' in page
    assert db.session.scalar(select(SitterExclusion.sitter_id)) == sasha.id

    start = (clock.now + timedelta(days=1)).astimezone(ZoneInfo("America/New_York"))
    form = {"client_id": alex.id, "sitter_id": sasha.id, "service": "Drop-in visit", "price": "30",
            "start_at": start.strftime("%Y-%m-%dT%H:%M"),
            "end_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")}
    response = client.post("/admin/bookings/new", data=form)
    assert response.status_code == 422
    assert "Sasha Lee is marked not to be sent to Alex Morgan again" in response.get_data(as_text=True)
    assert db.session.scalar(select(Booking)) is None

    booking = make.booking(client=alex, sitter=devon, status="confirmed")
    page = client.get(f"/admin/bookings/{booking.id}").get_data(as_text=True)
    sitter_select = page.split('name="sitter_id"', 1)[1].split("</select>", 1)[0]
    assert "Devon Walker" in sitter_select and "Sasha Lee" not in sitter_select
    response = client.post(f"/admin/bookings/{booking.id}/sitter", data={"sitter_id": sasha.id, **CONFIRMED})
    assert response.status_code == 422  # not among the choices
    with pytest.raises(InvalidInput, match="Sasha Lee is marked not to be sent to Alex Morgan again"):
        change_sitter(booking.id, sasha.id)  # and the service refuses it whatever the form offered
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).sitter_id == devon.id


def test_marking_a_pair_lists_then_flags_its_upcoming_bookings_until_the_mark_is_removed(client, owner, make,
                                                                                        clock):
    clock.set(START - timedelta(hours=2))  # 7:00 AM New York: the 9:00 visit is on Today
    alex = make.client(name="Alex Morgan")
    sasha, devon = make.sitter(name="Sasha Lee"), make.sitter(name="Devon Walker")
    today = make_visit(make, sitter=sasha, client=alex, start=START)
    pending = make.booking(client=alex, sitter=sasha, start=START + timedelta(days=2), service="Dog walk")
    past = make.booking(client=alex, sitter=sasha, start=START - timedelta(days=3), status="completed")
    cancelled = make.booking(client=alex, sitter=sasha, start=START + timedelta(days=1), status="cancelled")
    devons = make_visit(make, sitter=devon, client=alex, start=START + timedelta(hours=3))
    url = f"/admin/clients/{alex.id}/exclusions"

    step = client.post(url, data={"sitter_id": sasha.id, "reason": "rude"})
    html = step.get_data(as_text=True)
    assert step.status_code == 200 and "Sasha Lee still has 2 upcoming bookings with Alex Morgan" in html
    assert f"#{today.booking.id} Wed 25 Nov, 9:00 AM" in html
    assert f"#{pending.id} Fri 27 Nov, 9:00 AM (Dog walk)" in html
    for other in (past.id, cancelled.id, devons.booking.id):
        assert f"#{other} " not in html
    assert db.session.scalar(select(SitterExclusion)) is None and db.session.scalar(select(Alert)) is None

    done = client.post(url, data={"sitter_id": sasha.id, "reason": "rude", **CONFIRMED}, follow_redirects=True)
    assert "Sasha Lee will not be sent to Alex Morgan again. 2 upcoming bookings need a new sitter" in \
        done.get_data(as_text=True)
    [alert] = db.session.scalars(select(Alert).where(Alert.kind == "visit.needs_new_sitter")).all()
    assert alert.audience == "owner" and alert.resolved_at is None and alert.booking_id == today.booking.id
    assert f"#{today.booking.id} " in alert.text and f"#{pending.id} " in alert.text and "2 upcoming" in alert.text
    assert f"#{devons.booking.id} " not in alert.text

    def flagged(path: str) -> set[int]:
        page = client.get(path).get_data(as_text=True)
        return {b for b in (today.booking.id, pending.id, past.id, cancelled.id, devons.booking.id)
                if f'data-needs-new-sitter="{b}"' in page}

    assert flagged(f"/admin/bookings/{today.booking.id}") == {today.booking.id}
    assert flagged(f"/admin/bookings/{pending.id}") == {pending.id}
    assert flagged(f"/admin/bookings/{devons.booking.id}") == set()
    assert flagged("/admin/calendar") == {today.booking.id}  # the day view: Sasha's visit, not Devon's
    assert flagged("/admin") == {today.booking.id}
    assert "needs new sitter" in client.get("/admin").get_data(as_text=True)  # the alert's kind on Today

    change_sitter(pending.id, devon.id)  # a new sitter: that booking's flag goes by itself
    assert flagged(f"/admin/bookings/{pending.id}") == set()

    exclusion = db.session.scalar(select(SitterExclusion))
    remove = client.post(f"/admin/clients/{alex.id}/exclusions/{exclusion.id}/remove", data={})
    assert remove.status_code == 302
    assert flagged(f"/admin/bookings/{today.booking.id}") == set() and flagged("/admin/calendar") == set()
    db.session.expire_all()
    assert db.session.get(Alert, alert.id).resolved_at is not None


def test_staff_cannot_mark_sitters(client, make, login_as):
    login_as(make.user("staff"))
    alex, sasha = make.client(), make.sitter()
    for data in ({"sitter_id": sasha.id}, {"sitter_id": sasha.id, **CONFIRMED}):
        assert client.post(f"/admin/clients/{alex.id}/exclusions", data=data).status_code in (403, 404)
    assert db.session.scalar(select(SitterExclusion)) is None


def test_the_settings_page_holds_the_late_minutes_and_the_arrival_text(client, owner):
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'name="visit_late_minutes"' in page and 'value="15"' in page and 'name="visit_arrival_texts"' in page
    data = {"name": "Happy Tails", "timezone": "America/New_York", "grace_minutes": 60, "quiet_start_hour": 21,
            "quiet_end_hour": 8, "policy_mode": "block", "care_notes_lead_minutes": 60, "visit_late_minutes": 10,
            "visit_arrival_texts": "y"}
    assert client.post("/admin/settings", data=data).status_code == 302
    org = owner.org
    db.session.refresh(org)
    assert (org.visit_late_minutes, org.visit_arrival_texts) == (10, True)
    bad = client.post("/admin/settings", data={**data, "visit_late_minutes": 0})
    assert bad.status_code == 422
