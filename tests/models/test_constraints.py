"""The schema itself refuses the duplicates that would break routing and idempotency."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from app.models import AssignmentWindow, AutomationRun, Booking, MessageNumber, StripeEvent, Thread, User


def _refused(db, row):
    db.session.add(row)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_second_thread_for_same_org_client_booking_is_refused(db, make):
    thread = make.thread()
    _refused(db, Thread(org_id=thread.org_id, client_id=thread.client_id, booking_id=thread.booking_id,
                        scope="client_booking", message_number_id=make.number().id))


def test_second_front_desk_thread_for_a_client_is_refused(db, make):
    client = make.client()
    desk = make.number("front_desk")
    make.thread(scope="front_desk", client=client, number=desk)
    _refused(db, Thread(org_id=client.org_id, client_id=client.id, booking_id=None,
                        scope="front_desk", message_number_id=desk.id))


def test_booking_thread_must_name_its_booking(db, make):
    client = make.client()
    _refused(db, Thread(org_id=client.org_id, client_id=client.id, booking_id=None,
                        scope="client_booking", message_number_id=make.number().id))


def test_second_window_for_a_booking_is_refused(db, make):
    thread = make.thread()
    window = make.window(thread)
    _refused(db, AssignmentWindow(org_id=thread.org_id, thread_id=thread.id, booking_id=thread.booking_id,
                                  starts_at=window.starts_at, ends_at=window.ends_at))


def test_duplicate_number_is_refused_even_across_orgs(db, make):
    number = make.number()
    other_org = make.org()
    _refused(db, MessageNumber(org_id=other_org.id, e164=number.e164, kind="pool"))


def test_duplicate_stripe_event_id_is_refused(db, make):
    make.stripe_event("evt_123")
    _refused(db, StripeEvent(id="evt_123", type="checkout.session.completed"))


def test_duplicate_automation_run_per_booking_and_kind_is_refused(db, make):
    booking = make.booking()
    run = make.automation_run(booking)
    _refused(db, AutomationRun(org_id=booking.org_id, booking_id=booking.id, kind=run.kind,
                               scheduled_for=run.scheduled_for))


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (User, {"role": "admin"}),
        (Booking, {"status": "paid"}),
        (MessageNumber, {"kind": "vanity"}),
    ],
)
def test_enum_columns_refuse_unknown_values(db, make, model, fields):
    org = make.default_org
    base = {
        User: lambda: {"email": "x@example.test", "password_hash": "x", "name": "X", "role": "owner"},
        Booking: lambda: {"client_id": make.client().id, "start_at": make.clock.now,
                          "end_at": make.clock.now.replace(hour=23), "status": "pending"},
        MessageNumber: lambda: {"e164": make.phone(), "kind": "pool"},
    }[model]()
    base.update(fields)
    _refused(db, model(org_id=org.id, **base))


def test_booking_must_end_after_it_starts(db, make):
    client = make.client()
    _refused(db, Booking(org_id=client.org_id, client_id=client.id, start_at=make.clock.now,
                         end_at=make.clock.now, status="pending"))


def test_dedicated_number_needs_a_sitter(db, make):
    _refused(db, MessageNumber(org_id=make.default_org.id, e164=make.phone(), kind="sitter"))


def test_times_come_back_as_aware_utc(db, make):
    booking = make.booking()
    db.session.expire_all()
    loaded = db.session.get(Booking, booking.id)
    assert loaded.start_at.tzinfo is not None
    assert loaded.start_at == booking.start_at
