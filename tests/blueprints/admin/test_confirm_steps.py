"""Actions that text a client or cannot be undone say what will happen first, and flash what did."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import AutomationRun, AutomationTemplate, Booking, MessageNumber, Pet, Thread, User
from app.services.bookings.confirmed import on_booking_confirmed
from tests.support.factories import CONFIRMED


@pytest.fixture
def owner(make, login_as):
    user = make.user("owner", name="Olivia Owner")
    login_as(user)
    return user


def test_confirm_by_hand_says_who_is_texted_from_which_number_then_does_it(client, owner, make, db):
    make.number("pool", e164="+12025550121")
    booking = make.booking(client=make.client(name="Taylor Brooks"), sitter=make.sitter(name="Sasha Lee"))
    step = client.post(f"/admin/bookings/{booking.id}/confirm")
    page = step.get_data(as_text=True)
    assert step.status_code == 200
    assert "This texts Taylor Brooks a confirmation from (202) 555-0121 now." in page
    assert 'name="confirmed" value="1"' in page and "confirm(" not in page
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "pending"  # nothing happened yet
    done = client.post(f"/admin/bookings/{booking.id}/confirm", data=CONFIRMED, follow_redirects=True)
    assert f"Booking #{booking.id} confirmed; Taylor was texted." in done.get_data(as_text=True)


def test_the_step_says_when_quiet_hours_delay_the_text_or_nobody_is_texted(client, login_as, make, db, clock):
    make.number("pool", e164="+12025550121")
    clock.advance(hours=12)  # 22:00 local
    login_as(make.user("owner"))
    late = make.booking(client=make.client(name="Taylor Brooks"), start=clock.now + timedelta(days=1))
    page = client.post(f"/admin/bookings/{late.id}/confirm").get_data(as_text=True)
    assert "from (202) 555-0121 at 8:00 AM, after quiet hours." in page
    flash = client.post(f"/admin/bookings/{late.id}/confirm", data=CONFIRMED,
                        follow_redirects=True).get_data(as_text=True)
    assert "Taylor will be texted at 8:00 AM (after quiet hours)" in flash
    stopped = make.booking(client=make.client(name="Jamie Fox", opted_out=True))
    page = client.post(f"/admin/bookings/{stopped.id}/confirm").get_data(as_text=True)
    assert "Jamie Fox replied STOP, so the booking confirmation text is not sent to them." in page


def test_cancel_says_the_client_will_be_told_only_when_a_text_is_queued(client, owner, make, db):
    make.number("pool")
    told = make.booking(client=make.client(name="Jamie Fox"))
    on_booking_confirmed(told.id)  # the confirmation went out (embedded queue)
    step = client.post(f"/admin/bookings/{told.id}/cancel", data={"reason": "Client ill"}).get_data(as_text=True)
    assert "cannot be undone" in step and "This texts Jamie Fox a cancellation from" in step
    assert 'name="reason" value="Client ill"' in step  # the typed reason rides along
    done = client.post(f"/admin/bookings/{told.id}/cancel", data={"reason": "Client ill", **CONFIRMED},
                       follow_redirects=True).get_data(as_text=True)
    assert f"Booking #{told.id} cancelled; Jamie was texted." in done or \
        f"Booking #{told.id} cancelled; Jamie will be told by text." in done
    never_confirmed = make.booking(client=make.client(name="Robin Park"))
    done = client.post(f"/admin/bookings/{never_confirmed.id}/cancel", data={"reason": "dup", **CONFIRMED},
                       follow_redirects=True).get_data(as_text=True)
    assert f"Booking #{never_confirmed.id} cancelled; Robin was not texted (they never got a confirmation)." in done
    assert db.session.scalar(select(AutomationRun.id).where(AutomationRun.booking_id == never_confirmed.id)) is None


def test_change_sitter_step_names_the_sitters_and_the_text(client, owner, make, db):
    make.number("pool", e164="+12025550121")
    booking = make.booking(client=make.client(name="Taylor Brooks"), sitter=make.sitter(name="Sasha Lee"))
    on_booking_confirmed(booking.id)
    devon = make.sitter(name="Devon Walker")
    page = client.post(f"/admin/bookings/{booking.id}/sitter", data={"sitter_id": devon.id}).get_data(as_text=True)
    assert "to Devon Walker instead of Sasha Lee" in page and "Sasha Lee can no longer read or send" in page
    assert "This texts Taylor Brooks that their sitter changed from (202) 555-0121 now." in page
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).sitter_id != devon.id
    done = client.post(f"/admin/bookings/{booking.id}/sitter", data={"sitter_id": devon.id, **CONFIRMED},
                       follow_redirects=True).get_data(as_text=True)
    assert f"Booking #{booking.id} now has Devon Walker; Taylor was texted." in done or \
        f"Booking #{booking.id} now has Devon Walker; Taylor will be told by text." in done


def test_a_sitter_change_before_the_conversation_says_nobody_was_texted(client, owner, make, db):
    booking = make.booking(client=make.client(name="Taylor Brooks"), sitter=make.sitter(name="Sasha Lee"))
    devon = make.sitter(name="Devon Walker")
    step = client.post(f"/admin/bookings/{booking.id}/sitter", data={"sitter_id": devon.id}).get_data(as_text=True)
    assert "No text is sent: the booking has no conversation yet." in step
    done = client.post(f"/admin/bookings/{booking.id}/sitter", data={"sitter_id": devon.id, **CONFIRMED},
                       follow_redirects=True).get_data(as_text=True)
    assert f"Booking #{booking.id} now has Devon Walker; Taylor was not texted (no conversation yet)." in done


def test_moving_conversations_off_a_number_waits_for_the_yes(client, owner, make, db):
    old = make.number("pool", e164="+12025550133")
    booking = make.booking(client=make.client(name="Jamie Fox"), sitter=None)
    on_booking_confirmed(booking.id)
    new = make.number("pool", e164="+12025550144")
    url = f"/admin/numbers/{old.id}/move-threads"
    step = client.post(url)
    page = step.get_data(as_text=True)
    assert step.status_code == 200 and f"Jamie Fox (booking #{booking.id})" in page
    assert 'name="confirmed" value="1"' in page
    db.session.expire_all()
    assert db.session.scalar(select(Thread.message_number_id).where(Thread.booking_id == booking.id)) == old.id
    done = client.post(url, data=CONFIRMED, follow_redirects=True).get_data(as_text=True)
    assert "1 conversation(s) moved to new numbers; 1 client(s) will be told by text" in done
    db.session.expire_all()
    assert db.session.scalar(select(Thread.message_number_id).where(Thread.booking_id == booking.id)) == new.id
    refused = client.post(url)  # nothing left on it: the step says so, with no button
    assert refused.status_code == 409 and "No open conversation uses this number." in refused.get_data(as_text=True)
    assert 'name="confirmed"' not in refused.get_data(as_text=True)


def test_a_payment_link_says_how_the_client_gets_it_before_it_is_made(client, owner, make, db):
    booking = make.booking(client=make.client(name="Jamie Fox"))
    step = client.post(f"/admin/bookings/{booking.id}/payment-link")
    page = step.get_data(as_text=True)
    assert step.status_code == 200 and "This creates a Stripe payment link for 35.00 USD." in page
    assert "There is no front-desk number, so the link is not texted; share it yourself." in page
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).checkout_url is None


@pytest.mark.parametrize("action", ["texts_back_on", "reactivate_user", "same_sitter"])
def test_what_is_neither_final_nor_a_text_needs_no_step(client, owner, make, db, action):
    staff = make.user("staff", name="Sam Staff", active=False)
    booking = make.booking()
    url, data, said, done = {
        "texts_back_on": ("/admin/automations/enabled", {"kind": "visit_followup", "enabled": "1"},
                          "Visit followup texts are on",
                          lambda: db.session.scalar(select(AutomationTemplate.enabled).where(
                              AutomationTemplate.kind == "visit_followup")) in (None, True)),
        "reactivate_user": (f"/admin/users/{staff.id}/active", {"active": "1"}, "can log in again.",
                            lambda: db.session.get(User, staff.id).active),
        "same_sitter": (f"/admin/bookings/{booking.id}/sitter", {"sitter_id": booking.sitter_id},
                        f"Booking #{booking.id} already has that sitter; nothing changed.", lambda: True),
    }[action]
    response = client.post(url, data=data)
    assert response.status_code == 302  # done at once: no confirm step
    assert said in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert done()


@pytest.mark.parametrize("action", ["automation_off", "template_reset", "remove_pet", "deactivate_user",
                                    "retire_number", "paid_in_person"])
def test_final_actions_wait_for_the_yes(client, owner, make, db, action):
    pet_owner = make.client(name="Jamie Fox", pets=("Biscuit",))
    pet = pet_owner.pets[0]
    staff = make.user("staff", name="Sam Staff")
    number = make.number("pool", e164="+12025550133")
    booking = make.booking(client=pet_owner)
    url, data, said, unchanged = {
        "automation_off": ("/admin/automations/enabled", {"kind": "visit_followup", "enabled": "0"},
                           "No client gets a visit followup text while this is off",
                           lambda: True),
        "template_reset": ("/admin/automations/reset?kind=sitter_changed", {},
                           "Your own wording is deleted and cannot be recovered", lambda: True),
        "remove_pet": (f"/admin/clients/{pet_owner.id}/pets/{pet.id}/remove", {},
                       "This removes Biscuit from Jamie Fox's record for good",
                       lambda: db.session.get(Pet, pet.id) is not None),
        "deactivate_user": (f"/admin/users/{staff.id}/active", {"active": "0"}, "Sam Staff",
                            lambda: db.session.get(User, staff.id).active),
        "retire_number": (f"/admin/numbers/{number.id}/retire", {}, "No new booking gets this number",
                          lambda: db.session.get(MessageNumber, number.id).active),
        "paid_in_person": (f"/admin/bookings/{booking.id}/paid-in-person", {},
                           "This records 35.00 USD paid in person",
                           lambda: db.session.get(Booking, booking.id).status == "pending"),
    }[action]
    step = client.post(url, data=data)
    page = html.unescape(step.get_data(as_text=True))
    assert step.status_code == 200 and said in page and 'name="confirmed" value="1"' in page
    for name, value in data.items():
        assert f'name="{name}" value="{value}"' in page
    db.session.expire_all()
    assert unchanged()
    assert client.post(url, data={**data, **CONFIRMED}).status_code == 302
    db.session.expire_all()
    if action in ("remove_pet", "deactivate_user", "retire_number", "paid_in_person"):
        assert not unchanged()


def test_a_number_with_open_conversations_is_refused_with_the_way_out(client, owner, make, db):
    number = make.number("pool")
    on_booking_confirmed(make.booking().id)
    step = client.post(f"/admin/numbers/{number.id}/retire")
    page = step.get_data(as_text=True)
    assert step.status_code == 409 and "move them to new numbers first" in page
    assert 'name="confirmed"' not in page
