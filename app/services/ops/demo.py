"""The demo org behind `flask --app app seed-demo`: placed around now, safe to run twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.models import Booking, Client, MessageNumber, Org, Pet, Sitter, User
from app.services.people.consent import record_staff_consent

DEMO_ORG = "Happy Tails Pet Care (demo)"
DEMO_PASSWORD = "pawline-demo"
DEMO_TZ = "America/New_York"

USERS = [
    ("owner", "owner@demo.pawline.test", "Olivia Owner"),
    ("staff", "staff@demo.pawline.test", "Sam Staff"),
    ("sitter", "sasha@demo.pawline.test", "Sasha Sitter"),
    ("sitter", "devon@demo.pawline.test", "Devon Walker"),
    ("sitter", "riley@demo.pawline.test", "Riley Paws"),
]
SITTER_PHONES = {"sasha@demo.pawline.test": "+12025550141", "devon@demo.pawline.test": "+12025550142",
                 "riley@demo.pawline.test": "+12025550143"}
NUMBERS = [  # (e164, kind, sitter email)
    ("+12025550100", "front_desk", None),
    ("+12025550111", "pool", None),
    ("+12025550112", "pool", None),
    ("+12025550113", "pool", None),
    ("+12025550121", "sitter", "sasha@demo.pawline.test"),
]
CLIENTS = [  # (name, phone, area, pets)
    ("Alex Morgan", "+12025550131", "Dupont Circle", [("Biscuit", "dog")]),
    ("Jamie Chen", "+12025550132", "Capitol Hill", [("Mochi", "cat"), ("Tofu", "cat")]),
    ("Priya Patel", "+12025550133", "Georgetown", [("Rex", "dog")]),
    ("Sam Rivera", "+12025550134", "Adams Morgan", [("Luna", "dog"), ("Pepper", "rabbit")]),
    ("Taylor Brooks", "+12025550135", "Navy Yard", [("Ziggy", "parrot")]),
]


def _get_or_add(model, lookup: dict, **fields):
    row = db.session.scalar(select(model).filter_by(**lookup))
    if row is not None:
        return row, False
    row = model(**lookup, **fields)
    db.session.add(row)
    db.session.flush()
    return row, True


def _demo_bookings(now: datetime, tz: ZoneInfo) -> list[dict]:
    local_now = now.astimezone(tz)
    hour = timedelta(hours=1)
    tomorrow_9 = (local_now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    last_week = (local_now - timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0)
    start_of_hour = now.replace(minute=0, second=0, microsecond=0)
    return [
        {"key": "demo:active", "client": 0, "sitter": "sasha@demo.pawline.test",
         "start": start_of_hour - hour, "end": start_of_hour + 2 * hour, "confirm": True},
        {"key": "demo:later-today", "client": 1, "sitter": "devon@demo.pawline.test",
         "start": start_of_hour + 3 * hour, "end": start_of_hour + 4 * hour, "confirm": True},
        {"key": "demo:tomorrow", "client": 2, "sitter": "riley@demo.pawline.test",
         "start": tomorrow_9.astimezone(now.tzinfo), "end": (tomorrow_9 + hour).astimezone(now.tzinfo),
         "confirm": True},
        {"key": "demo:last-week", "client": 3, "sitter": "devon@demo.pawline.test",
         "start": last_week.astimezone(now.tzinfo), "end": (last_week + hour).astimezone(now.tzinfo),
         "confirm": True},
        {"key": "demo:pending", "client": 4, "sitter": "sasha@demo.pawline.test",
         "start": tomorrow_9.astimezone(now.tzinfo) + 4 * hour,
         "end": tomorrow_9.astimezone(now.tzinfo) + 5 * hour, "confirm": False},
    ]


def seed_demo() -> dict:
    """Create the demo org once; a second run changes nothing and reports the logins."""
    from app.services.bookings.confirmed import on_booking_confirmed

    org = db.session.scalar(select(Org).where(Org.name == DEMO_ORG))
    created = org is None
    if created:
        org = Org(name=DEMO_ORG, timezone=DEMO_TZ)
        db.session.add(org)
        db.session.flush()

    users = {}
    for role, email, name in USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(org_id=org.id, email=email, role=role, name=name)
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
            db.session.flush()
        users[email] = user
        if role == "sitter":
            _get_or_add(Sitter, {"org_id": org.id, "user_id": user.id}, name=name,
                        phone_e164=SITTER_PHONES[email])
    sitters = {email: db.session.scalar(select(Sitter).where(Sitter.user_id == u.id))
               for email, u in users.items() if u.role == "sitter"}
    for e164, kind, sitter_email in NUMBERS:
        _get_or_add(MessageNumber, {"e164": e164}, org_id=org.id, kind=kind,
                    sitter_id=sitters[sitter_email].id if sitter_email else None,
                    label=kind.replace("_", " ").title())
    clients = []
    for name, phone, area, pets in CLIENTS:
        client, new = _get_or_add(Client, {"org_id": org.id, "phone_e164": phone}, name=name, area=area)
        if new:
            for pet_name, species in pets:
                db.session.add(Pet(org_id=org.id, client_id=client.id, name=pet_name, species=species))
            record_staff_consent(client, "booking_form", users["owner@demo.pawline.test"].id)
        clients.append(client)

    to_confirm = []
    for spec in _demo_bookings(utcnow(), ZoneInfo(org.timezone)):
        booking = db.session.scalar(
            select(Booking).where(Booking.org_id == org.id, Booking.notes == spec["key"])
        )
        if booking is None:
            booking = Booking(org_id=org.id, client_id=clients[spec["client"]].id,
                              sitter_id=sitters[spec["sitter"]].id, start_at=spec["start"],
                              end_at=spec["end"], status="pending", price_cents=3500,
                              service="Drop-in visit", notes=spec["key"])
            db.session.add(booking)
            db.session.flush()
            if spec["confirm"]:
                to_confirm.append(booking.id)
    db.session.commit()
    for booking_id in to_confirm:
        on_booking_confirmed(booking_id, actor="seed-demo")
    return {"org": org.name, "created": created,
            "logins": [(role, email) for role, email, _ in USERS]}
