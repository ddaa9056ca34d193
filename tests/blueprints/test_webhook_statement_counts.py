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
STRIPE_REQUEST_MAX = {"postgresql": 1, "sqlite": 2}  # the whole path was 27, then 17, then 11
# 11 before, plus: the try counted in its own transaction, the event row's lock, the payment
# intent's lock, the refunds stored before their payment.
STRIPE_APPLY_MAX = {"postgresql": 15, "sqlite": 20}
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
    assert len(seen) <= STRIPE_APPLY_MAX[_backend()], len(seen)


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

