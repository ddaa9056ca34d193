"""Round trips on the two hot webhooks (issue 9): a later change that adds statements fails here.

Only the request's own statements are counted: jobs it queues are held back (they run
in workers, not in the request).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from sqlalchemy import func as func_
from sqlalchemy import select

from app.extensions import db
from app.jobs import queue as app_queue
from app.models import AutomationRun, EventLog, Message, Payment, Thread
from app.services.people.consent import record_consent
from tests.blueprints.test_sitter_queries import count_statements
from tests.support import stripe_payloads as sp
from tests.support.messaging_builders import booking_thread
from tests.support.twilio_stand_in import fixture_fields, post_signed

# Upper bounds per backend. SQLite counts its BEGIN and lock_row's no-op UPDATEs (no round trip
# there: the database is in-process).
# The Stripe request only stores the event (issue 19); applying it is the job's work, counted apart.
# Its INSERT is a transaction of its own (autocommit): no BEGIN on SQLite either (issue 28).
STRIPE_REQUEST_MAX = {"postgresql": 1, "sqlite": 1}  # the whole path was 27, then 17, then 11
# The apply job, pinned (issue 28), on both backends without SQLite's transaction and write-lock
# mechanics (its BEGINs and lock_row's no-op UPDATEs): count the try (its own transaction); lock
# the event, with its payment intent's lock in the same statement; lock the booking with its org,
# reading whether a refund of that intent waits; insert the payment; settle the event; confirm
# (one UPDATE of the booking, the pool number's choice and claim, thread, window, automation runs,
# audit). 15 before issue 28 (the intent's lock, the waiting-refund read and a second UPDATE of
# the booking were statements of their own; 16 → 13 with a sitter's own number).
STRIPE_APPLY = 12
_SQLITE_LOCKING = ("BEGIN", "UPDATE stripe_events SET id = id", "UPDATE bookings SET id = id")
INBOUND_SMS_MAX = {"postgresql": 3, "sqlite": 4}  # was 13, then 5, on PostgreSQL


_HELD: list = []


def held_jobs(monkeypatch) -> list:
    """The jobs the last `request_statements` block handed over (and held back), then forgotten."""
    jobs = list(_HELD)
    _HELD.clear()
    return jobs


@contextmanager
def request_statements(monkeypatch):
    _HELD.clear()
    monkeypatch.setattr(app_queue, "_dispatch", _HELD.extend)
    with count_statements() as seen:
        yield seen
    if os.environ.get("PAWLINE_SHOW_STATEMENTS"):
        print(f"\n{len(seen)} statements:")
        for statement in seen:
            print("  ", " ".join(statement.split())[:int(os.environ.get("PAWLINE_SHOW_WIDTH", 160))])


def _backend() -> str:
    return db.engine.dialect.name


def test_paid_checkout_statement_count(client, make, monkeypatch):
    from app.jobs.queue import resolve

    make.number("pool")
    booking = make.booking()
    evt = sp.event("checkout.session.completed", sp.checkout_session(booking))
    db.session.commit()
    with request_statements(monkeypatch) as seen:
        response = sp.deliver(client, evt)
    assert response.status_code == 200 and response.get_json()["status"] == "received"
    assert len(seen) <= STRIPE_REQUEST_MAX[_backend()], len(seen)
    [(_, call)] = held_jobs(monkeypatch)
    assert (call.spec.path, call.args, call.spec.queue) == ("app.jobs.apply_stripe_event", (evt["id"],), "stripe")

    with request_statements(monkeypatch) as seen:
        resolve(call.spec.path)(*call.args)
    db.session.rollback()
    # It still did all of its work.
    assert db.session.scalar(select(func_.count()).select_from(Payment)) == 1
    assert db.session.scalar(select(func_.count()).select_from(Thread)) == 1
    assert db.session.scalar(select(func_.count()).select_from(AutomationRun)) == 3
    kinds = sorted(db.session.scalars(select(EventLog.kind)))
    assert kinds == ["booking.confirmed", "number.assigned", "payment.received", "thread.created",
                     "window.created"]
    counted = [s for s in seen if not s.startswith(_SQLITE_LOCKING)]
    assert len(counted) == STRIPE_APPLY, "\n".join(" ".join(s.split())[:160] for s in counted)
    # stripe_events is read once, by its locking statement (no separate read of waiting refunds) …
    (event_lock,) = [s for s in counted if s.startswith("SELECT stripe_events.")]
    # … which on PostgreSQL also takes the payment intent's lock; the booking's lock reads the refunds.
    if _backend() == "postgresql":
        assert "pg_advisory_xact_lock" in event_lock and "FOR NO KEY UPDATE OF stripe_events" in event_lock
        (booking_lock,) = [s for s in counted if "FOR NO KEY UPDATE OF bookings" in s]
        assert "stripe_events.type =" in booking_lock


def test_inbound_sms_statement_count(client, make, monkeypatch):
    thread = booking_thread(make, client=make.client(phone_e164="+12025550101"),
                            number=make.number("pool", e164="+12025550121"), started_hours_ago=0.5)
    # Added in admin, so on the consent ledger already (a number's very first text writes one more row).
    record_consent(thread.org_id, "+12025550101", "granted", "verbal", client=thread.client)
    db.session.commit()
    with request_statements(monkeypatch) as seen:
        response = post_signed(client, "/webhooks/twilio/sms", fixture_fields("inbound-sms"))
    assert response.status_code == 200
    db.session.rollback()
    message = db.session.scalar(select(Message))
    assert (message.thread_id, message.routing_reason) == (thread.id, "active_window")
    assert len(seen) <= INBOUND_SMS_MAX[_backend()], len(seen)

