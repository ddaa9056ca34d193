"""Admin pages name people, and the audit log reads as sentences in the org's local time."""

from __future__ import annotations

import html

from tests.support.factories import CONFIRMED


def test_the_audit_log_reads_as_sentences_with_names_and_local_times(client, login_as, make, db):
    owner = make.user("owner", name="Olivia Owner")
    sasha = make.sitter(name="Sasha Lee")
    make.number("pool", e164="+12025550121")
    booking = make.booking(client=make.client(name="Taylor Brooks"), sitter=sasha)
    login_as(owner)
    client.post(f"/admin/bookings/{booking.id}/confirm", data=CONFIRMED)
    make.event("message.blocked_outside_window", booking_id=booking.id, actor=f"user:{sasha.user_id}",
               payload={"reason": "ended"})
    page = html.unescape(client.get("/admin/audit").get_data(as_text=True))
    assert f"Olivia Owner confirmed booking #{booking.id}." in page
    assert f"(202) 555-0121 was given to booking #{booking.id}: the pool number used least recently." in page
    assert "Sasha (sitter) tried to text outside the visit window; it was not sent." in page
    assert "Wed 25 Nov, 10:00 AM" in page  # 15:00 UTC, in New York
    assert "<details class=\"audit-raw\"><summary>Details</summary>" in page and "<dt>reason</dt>" in page
    assert f"user:{owner.id}" not in page and "booking.confirmed</code>" in page  # codes only behind the toggle
    unknown = make.event("something.new", actor="stripe")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Stripe (payment): something new." in page and unknown.id


def test_inbox_and_threads_name_the_sender_and_say_why_it_landed_there(client, login_as, make, org_rows):
    login_as(org_rows.owner)
    page = html.unescape(client.get(f"/admin/inbox/{org_rows.message.id}").get_data(as_text=True))
    assert "Alex Morgan" in page
    sitter_text = make.message(thread=org_rows.thread, direction="outbound", sender_kind="sitter",
                               sender_user_id=org_rows.sitter.user_id, body="On my way", status="sent")
    page = html.unescape(client.get(f"/admin/threads/{org_rows.thread.id}").get_data(as_text=True))
    assert f"{org_rows.sitter.name.split()[0]} (sitter)" in page and sitter_text.body in page
