"""Shared set-up for the admin page tests: an org with one of everything."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import event

from app.extensions import db as _db


@dataclass
class OrgRows:
    owner: object
    staff: object
    sitter: object
    client: object
    booking: object
    number: object
    thread: object
    message: object
    run: object
    alert: object


@pytest.fixture
def owner(make, login_as):
    """An owner of the default org, logged in (test modules with their own `owner` keep theirs)."""
    user = make.user("owner")
    login_as(user)
    return user


@pytest.fixture
def org_rows(make) -> OrgRows:
    owner = make.user("owner")
    staff = make.user("staff")
    sitter = make.sitter()
    client = make.client(name="Alex Morgan")
    booking = make.booking(client=client, sitter=sitter, status="confirmed")
    number = make.number("pool")
    thread = make.thread(booking=booking, number=number, number_reason="pool_lru")
    make.window(thread)
    message = make.message(thread=thread, owner_inbox=True, from_e164=client.phone_e164,
                           to_e164=number.e164, routing_reason="outside_window")
    run = make.automation_run(booking, status="failed", reason="provider said no")
    alert = make.alert(text="Booking has no number", booking_id=booking.id)
    make.event("booking.confirmed", booking_id=booking.id, sitter_id=sitter.id)
    return OrgRows(owner, staff, sitter, client, booking, number, thread, message, run, alert)


class StatementCounter:
    """Counts SQL statements sent to the database while active."""

    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1


@pytest.fixture
def count_statements(db):
    """with count_statements() as counter: …; counter.count"""
    from contextlib import contextmanager

    @contextmanager
    def _count():
        counter = StatementCounter()
        engine = _db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return _count


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    """Logins made by the factories hash with few rounds: these tests are about pages, not hashing."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    from app.models import orgs

    monkeypatch.setattr(orgs, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1000"))
