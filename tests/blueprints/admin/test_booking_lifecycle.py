"""Cancel, change sitter and reschedule from the booking page (lifecycle services behind them)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.models import AssignmentWindow, Booking, OutboxEntry
from tests.support.factories import CONFIRMED


def confirmed_booking(client, make, db, **kw):
    make.number("pool")
    booking = make.booking(**kw)
    client.post(f"/admin/bookings/{booking.id}/confirm", data=CONFIRMED)
    db.session.rollback()
    return db.session.get(Booking, booking.id)


def local(dt, make) -> str:
    return dt.astimezone(ZoneInfo(make.default_org.timezone)).strftime("%Y-%m-%dT%H:%M")


def test_cancel_needs_a_reason_then_closes_the_window_and_tells_the_client(client, login_as, make, db):
    login_as(make.user("owner"))
    booking = confirmed_booking(client, make, db)
    response = client.post(f"/admin/bookings/{booking.id}/cancel", data={"reason": " ", **CONFIRMED})
    assert response.status_code == 422
    assert 'data-field="reason">Say why it is cancelled.' in response.get_data(as_text=True)
    assert db.session.get(Booking, booking.id).status == "confirmed"
    cancel = {"reason": "Client ill", **CONFIRMED}
    assert client.post(f"/admin/bookings/{booking.id}/cancel", data=cancel).status_code == 302
    db.session.rollback()
    booking = db.session.get(Booking, booking.id)
    assert (booking.status, booking.cancel_reason) == ("cancelled", "Client ill")
    texts = [e.body for e in db.session.scalars(select(OutboxEntry).order_by(OutboxEntry.id))]
    assert len(texts) == 2 and "has been cancelled" in texts[1]
    page = client.get(f"/admin/bookings/{booking.id}").get_data(as_text=True)
    assert "booking.cancelled" in page and "Cancel booking" not in page


def test_change_sitter_moves_the_window(client, login_as, make, db):
    login_as(make.user("owner"))
    booking = confirmed_booking(client, make, db)
    new_sitter = make.sitter(name="Devon Walker")
    change = {"sitter_id": new_sitter.id, **CONFIRMED}
    assert client.post(f"/admin/bookings/{booking.id}/sitter", data=change).status_code == 302
    db.session.rollback()
    window = db.session.scalar(select(AssignmentWindow).where(AssignmentWindow.booking_id == booking.id))
    assert window.sitter_id == new_sitter.id
    assert "will now look after" in db.session.scalars(select(OutboxEntry.body)).all()[-1]


def test_change_to_an_inactive_sitter_is_refused_at_the_field(client, login_as, make, db):
    login_as(make.user("owner"))
    booking = confirmed_booking(client, make, db)
    inactive = make.sitter(active=False)
    response = client.post(f"/admin/bookings/{booking.id}/sitter", data={"sitter_id": inactive.id, **CONFIRMED})
    assert response.status_code == 422  # not offered, so refused as a choice
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).sitter_id != inactive.id


def test_reschedule_refuses_end_before_start_and_the_past(client, login_as, make, clock, db):
    login_as(make.user("owner"))
    booking = confirmed_booking(client, make, db)
    start = booking.start_at + timedelta(days=1)
    response = client.post(f"/admin/bookings/{booking.id}/reschedule",
                           data={"start_at": local(start, make), "end_at": local(start - timedelta(hours=1), make)})
    assert response.status_code == 422
    assert 'data-field="end_at">The end must be after the start.' in response.get_data(as_text=True)
    past = clock.now - timedelta(days=1)
    response = client.post(f"/admin/bookings/{booking.id}/reschedule",
                           data={"start_at": local(past, make), "end_at": local(past + timedelta(hours=1), make)})
    assert 'data-field="start_at">This start time is in the past.' in response.get_data(as_text=True)
    db.session.expire_all()
    unchanged = db.session.get(Booking, booking.id)
    assert unchanged.start_at == booking.start_at


def test_reschedule_moves_the_booking_and_its_window(client, login_as, make, db):
    login_as(make.user("owner"))
    booking = confirmed_booking(client, make, db)
    start = booking.start_at + timedelta(days=2)
    response = client.post(f"/admin/bookings/{booking.id}/reschedule",
                           data={"start_at": local(start, make), "end_at": local(start + timedelta(hours=2), make)})
    assert response.status_code == 302
    db.session.rollback()
    window = db.session.scalar(select(AssignmentWindow).where(AssignmentWindow.booking_id == booking.id))
    assert db.session.get(Booking, booking.id).start_at == start
    assert window.starts_at == start
