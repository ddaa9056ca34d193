"""The privacy crawl: an owner types a client's number, disguised, into every free-text field
they can fill; the client and the office text it too; then every sitter page and partial
(found by walking url_map) is visited, and no form of the number may appear on any of them."""

from __future__ import annotations

import html
import itertools
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from wtforms import StringField, TextAreaField

from app.blueprints.admin.forms import (
    BookingDetailsForm,
    BookingForm,
    CareNoteForm,
    ClientForm,
    NumberForm,
    PetForm,
    ReplyForm,
    SettingsForm,
)
from app.extensions import db
from app.models import Booking, Client, MessageNumber, Thread
from tests.support.login import log_in
from tests.support.twilio_stand_in import fixture_fields, post_signed

REAL = "+12025550131"  # the client's real number
# The same number as people type it to slip past a filter; each ≤ 40 characters (the shortest field).
DISGUISES = itertools.cycle([
    "2O2-555-O131",
    "(202) 555-0131",
    "2O2.555.Ol3l",
    "202 five five five 0131",
    "two oh two 555 oh one three one",
    "+1 202 555 0131",
    "2025550131",
    "two zero two, 555, 0131",
])
EMAIL = "alex.morgan@example.com"
# Fields whose value must have a shape (a phone, a time zone, a login): not free text.
STRUCTURED = {"phone", "e164", "timezone", "email", "password"}


def free_text_fields(form_class) -> list[str]:
    """The free-text fields of a form class, found from the class (new ones are covered too)."""
    with_meta = form_class(meta={"csrf": False}, formdata=None)
    return [field.name for field in with_meta
            if isinstance(field, StringField | TextAreaField) and field.type in ("StringField", "TextAreaField")
            and field.name not in STRUCTURED]


def typed(form_class, **structured) -> dict:
    """Form data: every free-text field of `form_class` holds a disguised number."""
    data = {name: next(DISGUISES) for name in free_text_fields(form_class)}
    data.update(structured)
    return data


def local(dt) -> str:
    return dt.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%dT%H:%M")


def ok(response) -> None:
    errors = re.findall(r"data-field[^<]*<", response.get_data(as_text=True))
    assert response.status_code in (200, 302), (response.status_code, errors)


def sitter_get_paths(app, thread_id: int, booking_id: int | None = None) -> list[str]:
    """Every GET route of the sitter blueprint, with this thread's (or its booking's) id where one is needed."""
    paths = []
    ids = {"thread_id": thread_id, "booking_id": booking_id}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("sitter.") or "GET" not in rule.methods:
            continue
        unknown = set(rule.arguments) - {name for name, value in ids.items() if value is not None}
        assert not unknown, f"teach the crawl the argument(s) {unknown} of {rule.rule}"
        paths.append(rule.build({name: ids[name] for name in rule.arguments}, append_unknown=False)[1])
    return paths


def number_seen(page: str) -> str | None:
    """What on the page gives the number away, or None."""
    text = html.unescape(page)
    if "0131" in re.sub(r"\D", "", text) and "5550131" in re.sub(r"\D", "", text):
        return "its digits"
    for word in ("O131", "Ol3l", "oh one three one", "five five five", "zero one three one", EMAIL):
        if word in text:
            return word
    return None


@pytest.fixture
def office(app, client, login_as, make, clock):
    """An owner who has filled every free-text field they can with the client's number."""
    owner = make.user("owner")
    sitter = make.sitter(name="Sasha Sitter")
    login_as(owner)
    ok(client.post("/admin/settings", data=typed(
        SettingsForm, timezone="America/New_York", grace_minutes="60", quiet_start_hour="21",
        quiet_end_hour="8", policy_mode="flag", visit_followup_enabled="y", messaging_service_sid="",
        retention_days="730", quick_replies="On my way")))  # a number there is refused (test_quick_replies)
    ok(client.post("/admin/numbers", data=typed(NumberForm, e164="+12025550188", kind="pool", sitter_id="0")))
    client_data = typed(ClientForm, phone=REAL, timezone="", consent_method="verbal")
    client_data["name"] = "2O2-555-O131 Morgan"  # the first name sitters see is the number
    client_data["notes"] = f"{client_data['notes']} or {EMAIL}"
    ok(client.post("/admin/clients/new", data=client_data))
    customer = db.session.scalar(select(Client).where(Client.phone_e164 == REAL))
    ok(client.post(f"/admin/clients/{customer.id}/pets", data=typed(PetForm)))
    ok(client.post("/admin/automations/template?kind=booking_confirmation", data={
        "kind": "booking_confirmation", "booking_id": "0",
        "body": "Hi {{ client_first_name }}! {{ pet_names }} on {{ start_date }}. Call two oh two 555 0131."}))
    start = clock.now + timedelta(minutes=30)
    ok(client.post("/admin/bookings/new", data=typed(
        BookingForm, client_id=str(customer.id), sitter_id=str(sitter.id), start_at=local(start),
        end_at=local(start + timedelta(hours=2)), price="35.00")))
    booking = db.session.scalar(select(Booking).where(Booking.client_id == customer.id))
    tomorrow = start + timedelta(days=1)  # on the sitter's "Upcoming 7 days"
    ok(client.post("/admin/bookings/new", data=typed(
        BookingForm, client_id=str(customer.id), sitter_id=str(sitter.id), start_at=local(tomorrow),
        end_at=local(tomorrow + timedelta(hours=2)), price="35.00")))
    ok(client.post(f"/admin/bookings/{booking.id}/details", data=typed(BookingDetailsForm, price="35.00")))
    ok(client.post(f"/admin/clients/{customer.id}/care-notes",
                   data=typed(CareNoteForm, kind="entry", pet_id="0")))  # read by the sitter in the window
    ok(client.post(f"/admin/bookings/{booking.id}/confirm", data={"confirmed": "1"}))  # yes to its confirm step
    clock.advance(minutes=40)  # the visit is on now
    db.session.rollback()
    thread = db.session.scalar(select(Thread).where(Thread.booking_id == booking.id))
    number = db.session.get(MessageNumber, thread.message_number_id)
    # The client texts their number to the masking number; then after the window ends, again.
    ok(post_signed(client, "/webhooks/twilio/sms", fixture_fields(
        "inbound-sms", From=REAL, To=number.e164, Body="my cell is 2O2 555 Ol3l, or two oh two 555 oh one three one",
        MessageSid="SM" + "a" * 32, SmsSid=None, SmsMessageSid=None)))
    # The office replies from the inbox (to a client text filed there) with the number in the reply.
    clock.advance(minutes=5)
    filed = make.message(thread, body="are you there?", owner_inbox=True, routing_reason="help", from_e164=REAL)
    ok(client.post(f"/admin/inbox/{filed.id}", data=typed(ReplyForm, from_number_id=str(number.id))))
    return sitter, thread


def test_no_sitter_page_or_partial_shows_a_number_typed_anywhere(app, office):
    sitter, thread = office
    client = app.test_client()  # the sitter's own phone: none of the office's session
    log_in(client, sitter.user)
    # The sitter writes the number too (flagged, not blocked: the org flags): alerts name the client.
    ok(client.post(f"/sitter/threads/{thread.id}/messages", data={"body": "their cell 202 555 0131?"}))
    # …and to the office (POST /sitter/office): their notes page shows it back, redacted like the rest.
    ok(client.post("/sitter/office", data={"body": "client says call 202 555 0131", "thread_id": str(thread.id)}))
    seen = {}
    for path in sitter_get_paths(app, thread.id, thread.booking_id):
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(path, headers=headers, follow_redirects=True)
            assert response.status_code == 200, path
            page = response.get_data(as_text=True)
            assert "[number hidden]" in page or path.endswith("/compose"), path  # the crawl saw typed text
            seen[(path, bool(headers))] = number_seen(page)
    assert {key: found for key, found in seen.items() if found} == {}
