"""List pages cost the same number of SQL statements with 2 rows or a full page (no N+1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from app.models import User
from app.services.queries import admin as admin_queries


def cheap_sitter(make):
    return make.sitter(with_login=False)  # a login costs a password hash


def add_booking(make):
    make.booking(status="confirmed", sitter=cheap_sitter(make))


def add_client(make):
    make.client(pets=("Rex", "Mochi"))


def add_sitter(make):
    sitter = make.sitter(with_login=False)
    sitter.user_id = make.session.scalar(insert_cheap_user(make))
    make.number("sitter", sitter_id=sitter.id)


def add_number(make):
    thread = make.thread(booking=make.booking(sitter=cheap_sitter(make)), number=make.number("pool"))
    make.window(thread)


def add_inbox_message(make):
    thread = make.thread(booking=make.booking(sitter=cheap_sitter(make)))
    make.message(thread=thread, owner_inbox=True, from_e164=thread.client.phone_e164, routing_reason="outside_window")


def add_thread(make):
    make.window(make.thread(booking=make.booking(sitter=cheap_sitter(make))))


def add_event(make):
    booking = make.booking(sitter=cheap_sitter(make))
    make.event("booking.created", booking_id=booking.id, sitter_id=booking.sitter_id, payload={"a": 1})


def add_runs(make):
    booking = make.booking(status="confirmed", sitter=cheap_sitter(make))
    make.automation_run(booking, "night_before_reminder", scheduled_for=make.clock.now + timedelta(hours=5))
    make.automation_run(booking, "booking_confirmation", status="failed", reason="no")


def insert_cheap_user(make):
    n = make._next()
    return insert(User).values(org_id=make.default_org.id, email=f"u{n}@example.test", role="staff",
                               name=f"User {n}", password_hash="not-a-login").returning(User.id)


def add_user(make):
    make.session.execute(insert_cheap_user(make))
    make.session.commit()


def add_home_rows(make):
    booking = make.booking(status="confirmed", start=make.clock.now - timedelta(minutes=30),
                           sitter=cheap_sitter(make))
    make.window(make.thread(booking=booking))
    make.booking(status="confirmed", sitter=None)  # confirmed without a number
    make.automation_run(booking, "visit_followup", scheduled_for=make.clock.now + timedelta(hours=3))
    make.message(org=make.default_org, direction="outbound", status="failed", sender_kind="automation")
    make.alert(text="no number")


LISTS = [
    ("/admin/bookings", add_booking),
    ("/admin/bookings?status=confirmed", add_booking),
    ("/admin/clients", add_client),
    ("/admin/sitters", add_sitter),
    ("/admin/numbers", add_number),
    ("/admin/inbox", add_inbox_message),
    ("/admin/threads", add_thread),
    ("/admin/threads?q=client", add_thread),
    ("/admin/audit", add_event),
    ("/admin/automations", add_runs),
    ("/admin/users", add_user),
    ("/admin", add_home_rows),
    ("/admin/calendar", add_booking),
    ("/admin/calendar?view=week", add_booking),
]


@pytest.mark.parametrize(("url", "add_row"), LISTS, ids=[u for u, _ in LISTS])
def test_statement_count_does_not_grow_with_rows(client, login_as, make, count_statements, monkeypatch,
                                                url, add_row):
    monkeypatch.setattr(admin_queries, "PER_PAGE", 5)  # a full page and more, with few rows to make
    login_as(make.user("owner"))
    for _ in range(2):
        add_row(make)
    with count_statements() as few:
        assert client.get(url).status_code == 200
    for _ in range(5):  # 7 rows: a full first page and a second one
        add_row(make)
    with count_statements() as many:
        response = client.get(url)
        assert response.status_code == 200
    assert many.count == few.count, f"{url}: {few.count} statements with 2 rows, {many.count} with 7"
