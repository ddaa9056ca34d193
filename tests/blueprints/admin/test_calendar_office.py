"""The calendar an owner works in: the week starts today (or on Monday, an org setting), each visit
shows its state and a sitter select that goes through the booking page's own confirm step."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.models import AssignmentWindow, Booking, OutboxEntry
from tests.support.factories import CONFIRMED

NY = ZoneInfo("America/New_York")


@pytest.fixture
def owner(make, login_as):
    user = make.user("owner")
    login_as(user)
    return user


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=NY).astimezone(UTC)


def week_headers(page: str) -> list[str]:
    """The day columns of the week table, as the owner reads them."""
    head = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    return [part.split("</a>", 1)[0] for part in head.split('hx-push-url="true">')[1:]]


def test_on_a_sunday_the_week_starts_today_not_last_monday(client, login_as, make, clock):
    clock.set(at(11, 29, 9))  # Sunday 29 Nov
    login_as(make.user("owner"))
    make.booking(client=make.client(name="Next Saturday"), start=at(12, 5))
    make.booking(client=make.client(name="Last Monday"), start=at(11, 23), status="confirmed")
    page = client.get("/admin/calendar?view=week").get_data(as_text=True)
    assert week_headers(page) == ["Sun 29", "Mon 30", "Tue 1", "Wed 2", "Thu 3", "Fri 4", "Sat 5"]
    assert "Next Saturday" in page and "Last Monday" not in page


def test_the_week_starts_on_monday_when_the_org_says_so(client, login_as, make, clock, db):
    clock.set(at(11, 29, 9))
    login_as(make.user("owner"))
    response = client.post("/admin/settings", data={
        "name": "Happy Tails", "timezone": "America/New_York", "grace_minutes": 60, "quiet_start_hour": 21,
        "quiet_end_hour": 8, "policy_mode": "block", "care_notes_lead_minutes": 60,
        "calendar_week_start": "monday"})
    assert response.status_code == 302
    settings = client.get("/admin/settings").get_data(as_text=True)
    assert "selected" in re.search(r'<option[^>]*value="monday"[^>]*>', settings).group(0)
    make.booking(client=make.client(name="Last Monday"), start=at(11, 23), status="confirmed")
    page = client.get("/admin/calendar?view=week").get_data(as_text=True)
    assert week_headers(page) == ["Mon 23", "Tue 24", "Wed 25", "Thu 26", "Fri 27", "Sat 28", "Sun 29"]
    assert "Last Monday" in page


def test_each_visit_shows_its_state_and_a_sitter_select(client, owner, make):
    sasha, devon = make.sitter(name="Sasha Lee"), make.sitter(name="Devon Walker")
    make.sitter(name="Gone Away", active=False)
    pending = make.booking(client=make.client(name="Robin Park"), sitter=None)
    confirmed = make.booking(client=make.client(name="Taylor Brooks"), sitter=sasha, status="confirmed")
    page = client.get("/admin/calendar").get_data(as_text=True)
    robin = page.split(f'data-visit="{pending.id}"', 1)[1].split("</form>", 1)[0]
    assert "flag-unassigned" in page.split(f'data-visit="{pending.id}"', 1)[0].rsplit("<div", 1)[1]
    assert '<span class="badge badge-warn">pending</span>' in robin and "no sitter" in robin
    assert f'action="/admin/bookings/{pending.id}/sitter"' in robin
    assert f'<option value="{devon.id}">Devon Walker</option>' in robin and "Gone Away" not in robin
    taylor = page.split(f'data-visit="{confirmed.id}"', 1)[1].split("</form>", 1)[0]
    assert '<span class="badge badge-ok">confirmed</span>' in taylor
    assert f'<option value="{sasha.id}" selected>Sasha Lee</option>' in taylor


def test_reassigning_from_the_calendar_uses_the_booking_pages_confirm_step_and_texts(client, owner, make, db):
    make.number("pool", e164="+12025550121")
    sasha, devon = make.sitter(name="Sasha Lee"), make.sitter(name="Devon Walker")
    booking = make.booking(client=make.client(name="Taylor Brooks"), sitter=sasha)
    client.post(f"/admin/bookings/{booking.id}/confirm", data=CONFIRMED)
    # What the calendar's select posts (htmx shows the confirm step above the calendar).
    step = client.post(f"/admin/bookings/{booking.id}/sitter", data={"sitter_id": devon.id},
                       headers={"HX-Request": "true"})
    page = html.unescape(step.get_data(as_text=True))
    assert 'id="confirm-step"' in page
    assert "instead of Sasha Lee" in page and "This texts Taylor Brooks that their sitter changed" in page
    db.session.rollback()
    assert db.session.get(Booking, booking.id).sitter_id == sasha.id  # nothing changed before the yes
    done = client.post(f"/admin/bookings/{booking.id}/sitter", data={"sitter_id": devon.id, **CONFIRMED})
    assert done.status_code == 302
    db.session.rollback()
    window = db.session.scalar(select(AssignmentWindow).where(AssignmentWindow.booking_id == booking.id))
    assert window.sitter_id == devon.id
    assert "will now look after" in db.session.scalars(select(OutboxEntry.body)).all()[-1]
