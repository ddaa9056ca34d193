"""Factories for every model: realistic defaults, anything overridable by keyword."""

from __future__ import annotations

import functools
import itertools
from datetime import timedelta

from app.models import (
    Alert,
    AssignmentWindow,
    AutomationRun,
    Booking,
    Client,
    EventLog,
    Message,
    MessageNumber,
    Org,
    Pet,
    Sitter,
    StripeEvent,
    Thread,
    User,
)

PASSWORD = "correct horse battery"
# Test accounts' passwords are hashed with few rounds of a method the app's check reads from the hash
# itself: at the app's cost (scrypt, 0.1-0.5 s a check on this machine) every login through the form,
# and every wrong try of a throttle test, paid one. Hashes the app makes (a password change, a reset)
# keep the app's method and cost; a test about that cost gives its users real hashes (set_password).
CHEAP_HASH_METHOD = "pbkdf2:sha256:1000"


@functools.cache
def cheap_hash(password: str) -> str:
    """Hash each test password once, cheaply (CHEAP_HASH_METHOD)."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password, method=CHEAP_HASH_METHOD)


class Factories:
    def __init__(self, session, clock):
        self.session = session
        self.clock = clock
        self._n = itertools.count(1)
        self._org = None
        self.client_defaults: dict = {}  # what every client made from now on gets unless told

    def _next(self) -> int:
        return next(self._n)

    def phone(self) -> str:
        """A valid, unique US number (+1 202 3xx xxxx)."""
        return f"+1202{3000000 + self._next():07d}"

    def _save(self, row):
        self.session.add(row)
        self.session.commit()
        return row

    @property
    def default_org(self) -> Org:
        if self._org is None:
            self._org = self.org(name="Happy Tails")
        return self._org

    def org(self, **kw) -> Org:
        kw.setdefault("name", f"Org {self._next()}")
        kw.setdefault("timezone", "America/New_York")
        return self._save(Org(**kw))

    def user(self, role: str = "owner", org: Org | None = None, password: str = PASSWORD, **kw) -> User:
        org = org or self.default_org
        n = self._next()
        kw.setdefault("email", f"{role}{n}@example.test")
        kw.setdefault("name", f"{role.title()} Person{n}")
        user = User(org_id=org.id, role=role, password_hash=cheap_hash(password), **kw)
        return self._save(user)

    def sitter(self, org: Org | None = None, with_login: bool = True, **kw) -> Sitter:
        org = org or self.default_org
        n = self._next()
        kw.setdefault("name", f"Sitter{n} Smith")
        kw.setdefault("phone_e164", self.phone())
        if with_login and "user_id" not in kw:
            kw["user_id"] = self.user("sitter", org=org, name=kw["name"]).id
        return self._save(Sitter(org_id=org.id, **kw))

    def client(self, org: Org | None = None, pets=("Biscuit",), **kw) -> Client:
        org = org or self.default_org
        n = self._next()
        kw.setdefault("name", f"Client{n} Jones")
        kw.setdefault("phone_e164", self.phone())
        kw.setdefault("area", "Dupont Circle")
        for key, value in self.client_defaults.items():
            kw.setdefault(key, value)
        client = self._save(Client(org_id=org.id, **kw))
        for pet in pets:
            self.session.add(Pet(org_id=org.id, client_id=client.id, name=pet))
        self.session.commit()
        return client

    def number(self, kind: str = "pool", org: Org | None = None, **kw) -> MessageNumber:
        org = org or self.default_org
        if kind == "sitter" and "sitter_id" not in kw:
            kw["sitter_id"] = self.sitter(org=org).id
        kw.setdefault("e164", self.phone())
        return self._save(MessageNumber(org_id=org.id, kind=kind, **kw))

    def booking(self, org: Org | None = None, client: Client | None = None,
                sitter: Sitter | None | bool = True, start=None, hours: float = 1, **kw) -> Booking:
        org = org or self.default_org
        client = client or self.client(org=org)
        if sitter is True:
            sitter = self.sitter(org=org)
        start = start or self.clock.now + timedelta(hours=2)
        kw.setdefault("end_at", start + timedelta(hours=hours))
        kw.setdefault("status", "pending")
        kw.setdefault("price_cents", 3500)
        return self._save(Booking(org_id=org.id, client_id=client.id,
                                  sitter_id=sitter.id if sitter else None, start_at=start, **kw))

    def thread(self, booking: Booking | None = None, number: MessageNumber | None = None,
               scope: str = "client_booking", client: Client | None = None, **kw) -> Thread:
        if scope == "client_booking":
            booking = booking or self.booking()
            client = client or booking.client
        org_id = (booking or client).org_id
        number = number or self.number("pool" if scope == "client_booking" else "front_desk",
                                       org=self.session.get(Org, org_id))
        return self._save(Thread(org_id=org_id, client_id=client.id,
                                 booking_id=booking.id if booking else None, scope=scope,
                                 message_number_id=number.id, **kw))

    def window(self, thread: Thread, **kw) -> AssignmentWindow:
        booking = thread.booking
        kw.setdefault("starts_at", booking.start_at)
        kw.setdefault("ends_at", booking.end_at + timedelta(minutes=60))
        kw.setdefault("sitter_id", booking.sitter_id)
        return self._save(AssignmentWindow(org_id=thread.org_id, thread_id=thread.id,
                                           booking_id=booking.id, **kw))

    def message(self, thread: Thread | None = None, org: Org | None = None, **kw) -> Message:
        org_id = thread.org_id if thread else (org or self.default_org).id
        kw.setdefault("direction", "inbound")
        kw.setdefault("sender_kind", "client")
        kw.setdefault("body", "Is Biscuit eating ok?")
        kw.setdefault("status", "received" if kw["direction"] == "inbound" else "queued")
        if thread is not None:
            kw.setdefault("message_number_id", thread.message_number_id)
        return self._save(Message(org_id=org_id, thread_id=thread.id if thread else None, **kw))

    def automation_run(self, booking: Booking, kind: str = "booking_confirmation", **kw) -> AutomationRun:
        kw.setdefault("scheduled_for", self.clock.now)
        return self._save(AutomationRun(org_id=booking.org_id, booking_id=booking.id, kind=kind, **kw))

    def event(self, kind: str, org: Org | None = None, **kw) -> EventLog:
        return self._save(EventLog(org_id=(org or self.default_org).id, kind=kind, **kw))

    def alert(self, audience: str = "owner", org: Org | None = None, **kw) -> Alert:
        kw.setdefault("kind", "test")
        kw.setdefault("text", "Something needs a look")
        return self._save(Alert(org_id=(org or self.default_org).id, audience=audience, **kw))

    def stripe_event(self, event_id: str | None = None, **kw) -> StripeEvent:
        kw.setdefault("type", "checkout.session.completed")
        return self._save(StripeEvent(id=event_id or f"evt_test_{self._next()}", **kw))


# A confirm step's "yes": admin actions that text a client or cannot be undone show what will happen
# first and act only when posted again with this field.
CONFIRMED = {"confirmed": "1"}
