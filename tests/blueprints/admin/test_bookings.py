"""The booking page: confirm by hand, what confirmation made, and the audit trail."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Alert, Booking, Message, Thread
from tests.support.factories import CONFIRMED
from tests.support.login import log_in


def test_confirm_by_hand_gives_a_thread_number_and_confirmation_text(client, login_as, make, db):
    owner = make.user("owner")
    login_as(owner)
    number = make.number("pool", e164="+12025550177")
    booking = make.booking(client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    response = client.post(f"/admin/bookings/{booking.id}/confirm", data=CONFIRMED)
    assert response.status_code == 302
    db.session.rollback()
    thread = db.session.scalar(select(Thread).where(Thread.booking_id == booking.id))
    assert thread.message_number_id == number.id
    page = client.get(f"/admin/bookings/{booking.id}").get_data(as_text=True)
    assert "(202) 555-0177" in page and "the pool number used least recently" in page
    assert "Hi Alex! Your Drop-in visit for Biscuit" in page  # the confirmation text, in the thread
    for kind in ("booking.confirmed", "thread.created", "number.assigned", "window.created"):
        assert kind in page
    assert f"{owner.name} confirmed booking #{booking.id}." in page  # who did it, in a sentence


def test_confirm_without_any_number_says_so_and_can_be_finished_later(client, login_as, make, db):
    login_as(make.user("owner"))
    booking = make.booking()
    response = client.post(f"/admin/bookings/{booking.id}/confirm", data=CONFIRMED, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "no number to give it a conversation" in page
    assert "Finish setup (assign a number)" in page
    assert db.session.scalar(select(Alert).where(Alert.booking_id == booking.id)) is not None
    assert client.get("/admin").get_data(as_text=True).count(f"#{booking.id}") >= 1
    make.number("front_desk")
    client.post(f"/admin/bookings/{booking.id}/confirm", data=CONFIRMED)
    db.session.rollback()
    assert db.session.scalar(select(Thread).where(Thread.booking_id == booking.id)) is not None


def test_cancelled_booking_cannot_be_confirmed_by_hand(client, login_as, make, db):
    login_as(make.user("owner"))
    make.number("pool")
    booking = make.booking(status="cancelled")
    response = client.post(f"/admin/bookings/{booking.id}/confirm", data=CONFIRMED, follow_redirects=True)
    assert "it cannot be confirmed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert booking.status == "cancelled"
    assert db.session.scalar(select(Message)) is None


def test_details_of_a_confirmed_booking_can_change_but_not_to_a_negative_price(client, login_as, make, db):
    login_as(make.user("owner"))
    booking = make.booking(status="confirmed", price_cents=3500)
    response = client.post(f"/admin/bookings/{booking.id}/details", data={"service": "Walk", "price": "-1"})
    assert response.status_code == 422
    assert 'data-field="price">The price cannot be negative.' in response.get_data(as_text=True)
    assert client.post(f"/admin/bookings/{booking.id}/details",
                       data={"service": "Long walk", "price": "50"}).status_code == 302
    db.session.expire_all()
    assert (booking.service, booking.price_cents) == ("Long walk", 5000)


def test_pending_booking_edit_saves_and_confirmed_booking_has_no_free_edit(client, login_as, make, db):
    login_as(make.user("owner"))
    booking = make.booking(status="confirmed")
    page = client.get(f"/admin/bookings/{booking.id}/edit").get_data(as_text=True)
    assert "Only pending" not in page and "Booking #" in page  # shows the booking page instead
    assert db.session.get(Booking, booking.id).status == "confirmed"


def test_bookings_list_filters_by_status_sitter_and_date(client, login_as, make, clock):
    login_as(make.user("owner"))
    sitter = make.sitter(name="Sasha Sitter")
    mine = make.booking(sitter=sitter, status="confirmed", client=make.client(name="Wanted Client"))
    make.booking(status="pending", client=make.client(name="Other Client"))

    def rows(query: str) -> str:  # the table only (the filter's client dropdown names everyone)
        page = client.get(f"/admin/bookings?{query}").get_data(as_text=True)
        return page.split('id="booking-rows"', 1)[1]

    assert "Wanted Client" in rows(f"status=confirmed&sitter_id={sitter.id}")
    assert "Other Client" not in rows(f"status=confirmed&sitter_id={sitter.id}")
    day = clock.now.date().isoformat()
    both = rows(f"date_from={day}&date_to={day}")
    assert "Wanted Client" in both and "Other Client" in both
    assert "No bookings match." in rows("date_from=2030-01-01")
    fragment = client.get("/admin/bookings?status=pending", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "Other Client" in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]
    assert mine.id


def test_payment_buttons_on_a_pending_booking(app_factory, make, db):
    booking = make.booking()
    owner = make.user("owner")
    for stripe_key, shows_link in ((None, False), ("sk_test_admin", True)):
        app = app_factory(STRIPE_SECRET_KEY=stripe_key)
        client = log_in(app.test_client(), owner)
        page = client.get(f"/admin/bookings/{booking.id}").get_data(as_text=True)
        assert "Paid in person" in page
        assert ("Send payment link" in page) is shows_link
