"""Bad input on every admin form: the form comes back with the message at the field,
and nothing is saved."""

from __future__ import annotations

import html
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.models import Booking, Client, MessageNumber, Org, Pet, Sitter, User
from tests.support.factories import CONFIRMED


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def field_error(response, field: str, text: str) -> bool:
    page = html.unescape(response.get_data(as_text=True))
    marker = f'data-field="{field}">'
    return marker in page and text in page.split(marker, 1)[1].split("</p>", 1)[0]


def test_client_with_an_invalid_phone_is_refused_at_the_phone_field(client, login_as, make, db):
    login_as(make.user("owner"))
    before = count(db, Client)
    response = client.post("/admin/clients/new", data={"name": "Robin", "phone": "555-12",
                                                       "consent_method": "verbal"})
    assert response.status_code == 422
    assert field_error(response, "phone", "'555-12' is not a valid phone number.")
    assert 'value="Robin"' in response.get_data(as_text=True)  # what was typed is kept
    assert count(db, Client) == before


def test_client_phone_in_a_common_format_is_stored_as_e164_with_pets(client, login_as, make, db):
    login_as(make.user("owner"))
    response = client.post("/admin/clients/new", data={"name": "Robin Hood", "phone": "(202) 555-0187",
                                                       "pets": "Rex, Mochi", "area": "Navy Yard",
                                                       "consent_method": "booking_form"})
    assert response.status_code == 302
    saved = db.session.scalar(select(Client).where(Client.name == "Robin Hood"))
    assert saved.phone_e164 == "+12025550187"
    assert saved.pet_names == "Rex and Mochi"


def test_second_client_with_the_same_phone_is_refused(client, login_as, make, db):
    login_as(make.user("owner"))
    existing = make.client(phone_e164="+12025550188")
    response = client.post("/admin/clients/new", data={"name": "Copy", "phone": "202.555.0188",
                                                       "consent_method": "verbal"})
    assert response.status_code == 422
    assert field_error(response, "phone", "Another client already has this phone number.")
    assert count(db, Client) == 1 and existing.name != "Copy"


def test_editing_a_client_with_a_bad_phone_changes_nothing(client, login_as, make, db):
    login_as(make.user("owner"))
    existing = make.client(name="Jamie", phone_e164="+12025550189")
    response = client.post(f"/admin/clients/{existing.id}/edit", data={"name": "Jamie Renamed", "phone": "abc"})
    assert response.status_code == 422
    assert field_error(response, "phone", "is not a phone number")
    db.session.expire_all()
    assert (existing.name, existing.phone_e164) == ("Jamie", "+12025550189")


def test_pet_without_a_name_is_refused(client, login_as, make, db):
    login_as(make.user("owner"))
    owner_client = make.client(pets=())
    response = client.post(f"/admin/clients/{owner_client.id}/pets", data={"name": "  ", "species": "cat"})
    assert response.status_code == 422
    assert field_error(response, "name", "Enter the pet's name.")
    assert count(db, Pet) == 0


def test_pets_are_added_and_removed(client, login_as, make, db):
    login_as(make.user("owner"))
    owner_client = make.client(pets=("Biscuit",))
    response = client.post(f"/admin/clients/{owner_client.id}/pets", data={"name": "Tofu", "species": "cat"})
    assert response.status_code == 302
    biscuit = owner_client.pets[0]
    assert client.post(f"/admin/clients/{owner_client.id}/pets/{biscuit.id}/remove", data=CONFIRMED).status_code == 302
    db.session.expire_all()
    assert [p.name for p in owner_client.pets] == ["Tofu"]


def org_tz(make) -> ZoneInfo:
    return ZoneInfo(make.default_org.timezone)


def booking_data(make, clock, **over):
    client_row = over.pop("client_row", None) or make.client()
    start = (clock.now + timedelta(days=1)).astimezone(org_tz(make))
    data = {"client_id": client_row.id, "sitter_id": 0, "service": "Walk",
            "start_at": start.strftime("%Y-%m-%dT%H:%M"),
            "end_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), "price": "35.00"}
    data.update(over)
    return data




def test_booking_ending_before_it_starts_is_refused_at_the_end_field(client, login_as, make, clock, db):
    login_as(make.user("owner"))
    data = booking_data(make, clock)
    data["end_at"] = data["start_at"].split("T")[0] + "T00:00"
    response = client.post("/admin/bookings/new", data=data)
    assert response.status_code == 422
    assert field_error(response, "end_at", "The end must be after the start.")
    assert count(db, Booking) == 0


def test_booking_in_the_past_is_refused_at_the_start_field(client, login_as, make, clock, db):
    login_as(make.user("owner"))
    start = (clock.now - timedelta(hours=3)).astimezone(org_tz(make))
    data = booking_data(make, clock, start_at=start.strftime("%Y-%m-%dT%H:%M"),
                        end_at=(start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    response = client.post("/admin/bookings/new", data=data)
    assert response.status_code == 422
    assert field_error(response, "start_at", "This start time is in the past.")
    assert count(db, Booking) == 0


def test_booking_times_are_entered_in_org_time_and_stored_in_utc(client, login_as, make, clock, db):
    login_as(make.user("owner"))
    sitter = make.sitter()
    data = booking_data(make, clock, start_at="2026-12-01T09:30", end_at="2026-12-01T10:30",
                        sitter_id=sitter.id, price="42.50")
    response = client.post("/admin/bookings/new", data=data)
    assert response.status_code == 302
    booking = db.session.scalar(select(Booking))
    assert booking.start_at.isoformat() == "2026-12-01T14:30:00+00:00"  # 09:30 in New York (EST)
    assert (booking.price_cents, booking.status, booking.sitter_id) == (4250, "pending", sitter.id)


def test_booking_with_a_negative_price_or_missing_client_is_refused(client, login_as, make, clock, db):
    login_as(make.user("owner"))
    response = client.post("/admin/bookings/new", data=booking_data(make, clock, price="-5"))
    assert response.status_code == 422
    assert field_error(response, "price", "The price cannot be negative.")
    response = client.post("/admin/bookings/new", data=booking_data(make, clock, client_id=""))
    assert response.status_code == 422
    assert count(db, Booking) == 0


def test_editing_a_pending_booking_into_the_past_is_refused(client, login_as, make, clock, db):
    login_as(make.user("owner"))
    booking = make.booking()
    start = (clock.now - timedelta(days=1)).astimezone(org_tz(make))
    data = booking_data(make, clock, client_row=booking.client, start_at=start.strftime("%Y-%m-%dT%H:%M"),
                        end_at=(start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    original = booking.start_at
    response = client.post(f"/admin/bookings/{booking.id}/edit", data=data)
    assert response.status_code == 422
    assert field_error(response, "start_at", "This start time is in the past.")
    db.session.expire_all()
    assert booking.start_at == original


def test_duplicate_number_is_refused_at_the_field_even_from_another_org(client, login_as, make, db):
    login_as(make.user("owner"))
    make.number("pool", org=make.org(name="Other"), e164="+12025550190")
    response = client.post("/admin/numbers", data={"e164": "(202) 555-0190", "kind": "pool", "sitter_id": 0})
    assert response.status_code == 422
    assert field_error(response, "e164", "This number is already in use.")
    assert count(db, MessageNumber) == 1


def test_invalid_number_and_sitter_number_without_sitter_are_refused(client, login_as, make, db):
    login_as(make.user("owner"))
    response = client.post("/admin/numbers", data={"e164": "12", "kind": "pool", "sitter_id": 0})
    assert field_error(response, "e164", "is not a valid phone number")
    response = client.post("/admin/numbers", data={"e164": "+1 202 555 0191", "kind": "sitter", "sitter_id": 0})
    assert response.status_code == 422
    assert field_error(response, "sitter_id", "Choose the sitter this number belongs to.")
    assert count(db, MessageNumber) == 0


def test_sitter_with_bad_phone_or_short_password_is_refused(client, login_as, make, db):
    login_as(make.user("owner"))
    response = client.post("/admin/sitters/new", data={"name": "Sasha", "phone": "999"})
    assert field_error(response, "phone", "is not a valid phone number")
    response = client.post("/admin/sitters/new", data={"name": "Sasha", "phone": "202-555-0192",
                                                       "email": "sasha@example.test", "password": "short"})
    assert response.status_code == 422
    assert field_error(response, "password", "Use at least 10 characters.")
    assert count(db, Sitter) == 0
    assert db.session.scalar(select(User).where(User.email == "sasha@example.test")) is None


def test_sitter_with_a_login_can_log_in_as_sitter(client, login_as, make, db):
    login_as(make.user("owner"))
    response = client.post("/admin/sitters/new", data={"name": "Sasha Sitter", "phone": "202-555-0193",
                                                       "email": "Sasha@Example.test", "password": "long-enough-1"})
    assert response.status_code == 302
    sitter = db.session.scalar(select(Sitter))
    assert sitter.user.email == "sasha@example.test" and sitter.user.role == "sitter"
    assert sitter.phone_e164 == "+12025550193"


def test_settings_refuse_an_unknown_timezone_and_keep_the_old_values(client, login_as, make, db):
    owner = make.user("owner")
    login_as(owner)
    data = {"name": "Renamed", "timezone": "Mars/Olympus", "grace_minutes": 30, "quiet_start_hour": 22,
            "quiet_end_hour": 7, "policy_mode": "flag"}
    response = client.post("/admin/settings", data=data)
    assert response.status_code == 422
    assert field_error(response, "timezone", "'Mars/Olympus' is not a time zone")
    response = client.post("/admin/settings", data={**data, "timezone": "UTC", "grace_minutes": 5000})
    assert field_error(response, "grace_minutes", "Use 0 to 1440 minutes.")
    db.session.expire_all()
    org = db.session.get(Org, owner.org_id)
    assert (org.name, org.timezone, org.grace_minutes) == ("Happy Tails", "America/New_York", 60)


def test_settings_save(client, login_as, make, db):
    owner = make.user("owner")
    login_as(owner)
    data = {"name": "Wag Co", "timezone": "Europe/London", "grace_minutes": 30, "quiet_start_hour": 22,
            "quiet_end_hour": 7, "policy_mode": "flag"}  # follow-up unchecked → off
    assert client.post("/admin/settings", data=data).status_code == 302
    db.session.expire_all()
    org = db.session.get(Org, owner.org_id)
    assert (org.name, org.timezone, org.grace_minutes, org.quiet_start_hour, org.quiet_end_hour) == (
        "Wag Co", "Europe/London", 30, 22, 7)
    assert (org.policy_mode, org.visit_followup_enabled) == ("flag", False)


def test_users_duplicate_email_and_short_password_are_refused(client, login_as, make, db):
    owner = make.user("owner")
    login_as(owner)
    response = client.post("/admin/users", data={"name": "Dup", "email": owner.email.upper(),
                                                 "password": "long-enough-1", "role": "staff"})
    assert response.status_code == 422
    assert field_error(response, "email", "A user with this email already exists.")
    response = client.post("/admin/users", data={"name": "New", "email": "new@example.test",
                                                 "password": "short", "role": "staff"})
    assert field_error(response, "password", "Use at least 10 characters.")
    assert count(db, User) == 1


def test_owner_adds_and_deactivates_staff_but_not_themselves(client, login_as, make, db):
    owner = make.user("owner")
    login_as(owner)
    assert client.post("/admin/users", data={"name": "Sam", "email": "sam@example.test",
                                             "password": "long-enough-1", "role": "staff"}).status_code == 302
    staff = db.session.scalar(select(User).where(User.email == "sam@example.test"))
    assert staff.role == "staff" and staff.org_id == owner.org_id
    client.post(f"/admin/users/{staff.id}/active", data={"active": "0", **CONFIRMED})
    response = client.post(f"/admin/users/{owner.id}/active", data={"active": "0", **CONFIRMED}, follow_redirects=True)
    assert "You cannot deactivate your own login." in response.get_data(as_text=True)
    db.session.expire_all()
    assert not staff.active and owner.active


def test_inbox_reply_needs_a_body(client, login_as, org_rows, db):
    from app.models import Message

    login_as(org_rows.owner)
    before = count(db, Message)
    response = client.post(f"/admin/inbox/{org_rows.message.id}",
                           data={"from_number_id": org_rows.number.id, "body": "   "})
    assert response.status_code == 422
    assert field_error(response, "body", "Write a message first.")
    assert count(db, Message) == before
