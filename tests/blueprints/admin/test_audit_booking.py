"""The audit log filters by booking: the rows naming the booking and those naming only its
conversation, never another booking's; the booking page's audit trail shows the same rows."""

from __future__ import annotations


def rows(client, url: str) -> str:
    return client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)


def test_audit_log_filters_by_booking_including_its_conversation(client, login_as, make):
    login_as(make.user("owner"))
    booking, other = make.booking(), make.booking()
    thread, other_thread = make.thread(booking=booking), make.thread(booking=other)
    make.event("booking.created", booking_id=booking.id, payload={"n": "created"})
    make.event("inbox.replied", thread_id=thread.id, payload={"n": "office reply"})
    make.event("booking.created", booking_id=other.id, payload={"n": "other booking"})
    make.event("inbox.replied", thread_id=other_thread.id, payload={"n": "other reply"})
    make.event("number.added", payload={"n": "no booking"})
    found = rows(client, f"/admin/audit?booking_id={booking.id}")
    assert "<dd>created</dd>" in found and "<dd>office reply</dd>" in found
    assert "other booking" not in found and "other reply" not in found and "no booking" not in found
    everything = rows(client, "/admin/audit")
    assert all(f"<dd>{n}</dd>" in everything for n in ("created", "office reply", "other booking", "no booking"))
    page = client.get(f"/admin/bookings/{booking.id}").get_data(as_text=True)
    trail = page.split('id="audit-trail"', 1)[1]
    assert "office reply" in trail and "other reply" not in trail
    assert f'/admin/audit?booking_id={booking.id}' in trail


def test_the_booking_filter_combines_with_the_person_filter(client, login_as, make):
    owner = make.user("owner")
    staff = make.user("staff")
    login_as(owner)
    booking = make.booking()
    make.event("booking.cancelled", booking_id=booking.id, actor=f"user:{staff.id}", payload={"n": "by staff"})
    make.event("booking.edited", booking_id=booking.id, actor=f"user:{owner.id}", payload={"n": "by owner"})
    found = rows(client, f"/admin/audit?booking_id={booking.id}&user_id={staff.id}")
    assert "<dd>by staff</dd>" in found and "by owner" not in found


def test_a_booking_number_out_of_range_is_a_field_error_not_a_500(client, login_as, make):
    login_as(make.user("owner"))
    response = client.get("/admin/audit?booking_id=99999999999")
    assert response.status_code < 500
    assert "No booking has that number." in response.get_data(as_text=True)
