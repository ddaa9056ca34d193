"""Care notes reach the assigned sitter only from the org's lead time before the visit until its
window ends: enforced by the server on every read, redacted, each read audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import InvalidInput, NotFound
from app.models import EventLog, Thread
from app.services.bookings.confirmed import on_booking_confirmed
from app.services.people.care_notes import save_care_note, sitter_care_notes


@pytest.fixture
def visit(make, clock, db):
    """A confirmed visit 09:00-10:00 tomorrow (New York), window to 11:00, with two care notes."""
    owner = make.user("owner")
    make.number("pool")
    sitter = make.sitter(name="Sasha Lee")
    # "call me at 202-555-0199" below is the client's own number: hidden from the sitter.
    client = make.client(name="Taylor Brooks", pets=("Biscuit",), phone_e164="+12025550199")
    start = clock.now + timedelta(days=1) - timedelta(hours=1)  # 14:00 UTC = 09:00 local
    booking = make.booking(client=client, sitter=sitter, start=start)
    on_booking_confirmed(booking.id)
    save_care_note(client.id, kind="entry", body="Lockbox 4321 by the back door; call me at 202-555-0199 "
                                                  "or mail taylor@example.com",
                   user_id=owner.id)
    save_care_note(client.id, kind="medication", body="Half a pill with dinner", pet_id=client.pets[0].id,
                   user_id=owner.id)
    thread = db.session.scalar(select(Thread).where(Thread.booking_id == booking.id))
    return booking, sitter, thread


def test_hidden_before_the_lead_time_shown_inside_hidden_after(visit, clock, db):
    booking, sitter, thread = visit
    user_id = sitter.user_id
    clock.set(booking.start_at - timedelta(minutes=61))  # the default lead is 60 minutes
    early = sitter_care_notes(user_id, thread.id)
    assert not early.visible and early.notes == [] and "Care notes show from" in early.text
    clock.set(booking.start_at - timedelta(minutes=60))
    shown = sitter_care_notes(user_id, thread.id)
    assert shown.visible and [n.kind_label for n in shown.notes] == ["Entry and keys", "Medication"]
    assert shown.notes[1].pet_name == "Biscuit"
    assert "202-555-0199" not in shown.notes[0].body and "Lockbox 4321" in shown.notes[0].body
    assert "taylor@example.com" not in shown.notes[0].body
    clock.set(booking.end_at + timedelta(minutes=59))  # inside the grace hour: still the window
    assert sitter_care_notes(user_id, thread.id).visible
    clock.set(booking.end_at + timedelta(minutes=60))
    late = sitter_care_notes(user_id, thread.id)
    assert not late.visible and "over" in late.text
    views = db.session.scalars(select(EventLog).where(EventLog.kind == "care_notes.viewed")).all()
    # Two reads that showed notes, one audit line: reads are audited once per visit, not per page view.
    assert len(views) == 1 and views[0].sitter_id == sitter.id and views[0].booking_id == booking.id


def test_the_org_lead_time_moves_the_opening(visit, clock, db):
    booking, sitter, thread = visit
    booking.org.care_notes_lead_minutes = 180
    db.session.commit()
    clock.set(booking.start_at - timedelta(minutes=150))
    assert sitter_care_notes(sitter.user_id, thread.id).visible


def test_another_sitter_and_a_reassigned_sitter_get_nothing(visit, clock, make, db):
    from app.services.bookings.lifecycle import change_sitter

    booking, sitter, thread = visit
    clock.set(booking.start_at)
    other = make.sitter()
    with pytest.raises(NotFound):
        sitter_care_notes(other.user_id, thread.id)
    change_sitter(booking.id, other.id)
    with pytest.raises(NotFound):
        sitter_care_notes(sitter.user_id, thread.id)  # the window moved with the booking
    assert sitter_care_notes(other.user_id, thread.id).visible


def test_the_page_enforces_the_window_whatever_was_shown(visit, clock, client, login_as, db):
    booking, sitter, thread = visit
    clock.set(booking.start_at - timedelta(hours=3))
    login_as(sitter.user)
    page = client.get(f"/sitter/threads/{thread.id}/care-notes", headers={"HX-Request": "true"})
    assert page.status_code == 200 and "Lockbox" not in page.get_data(as_text=True)
    clock.set(booking.start_at)
    login_as(sitter.user)  # a login session follows the (frozen) clock
    page = client.get(f"/sitter/threads/{thread.id}/care-notes").get_data(as_text=True)
    assert "Lockbox 4321" in page and "202-555-0199" not in page and "Half a pill" in page
    thread_page = client.get(f"/sitter/threads/{thread.id}").get_data(as_text=True)
    assert f'hx-get="/sitter/threads/{thread.id}/care-notes"' in thread_page


def test_owners_edit_notes_and_bad_input_is_refused(visit, client, login_as, make, db):
    booking, _sitter, _thread = visit
    with pytest.raises(InvalidInput):
        save_care_note(booking.client_id, kind="grooming", body="x", user_id=1)
    stranger = make.client(pets=("Rex",))
    with pytest.raises(InvalidInput):
        save_care_note(booking.client_id, kind="feeding", body="x", pet_id=stranger.pets[0].id, user_id=1)
    login_as(make.user("staff"))
    response = client.post(f"/admin/clients/{booking.client_id}/care-notes",
                           data={"kind": "feeding", "pet_id": 0, "body": "Two scoops at 6 PM"})
    assert response.status_code == 302
    page = client.get(f"/admin/clients/{booking.client_id}").get_data(as_text=True)
    assert "Two scoops at 6 PM" in page
    empty = client.post(f"/admin/clients/{booking.client_id}/care-notes", data={"kind": "feeding", "body": ""})
    assert empty.status_code == 422 and "Write the instruction." in empty.get_data(as_text=True)


def test_an_owner_rewrites_a_note_in_place_and_bad_ids_are_404(visit, client, login_as, make, db):
    from app.models import CareNote

    booking, _sitter, _thread = visit
    note = db.session.scalar(select(CareNote).where(CareNote.kind == "entry"))
    login_as(make.user("owner"))
    response = client.post(f"/admin/clients/{booking.client_id}/care-notes",
                           data={"note_id": note.id, "kind": "entry", "pet_id": 0, "body": "Key under the mat"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CareNote, note.id).body == "Key under the mat"
    assert db.session.scalar(select(func.count(CareNote.id))) == 2  # replaced, not added
    for bad in ("99999999999999", "abc", str(note.id + 100)):
        assert client.post(f"/admin/clients/{booking.client_id}/care-notes",
                           data={"note_id": bad, "kind": "entry", "body": "x"}).status_code == 404
