"""What one automation run costs: a pinned number of statements (issue 28), on both backends."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AutomationRun, Booking, Message
from app.services.automations.run_job import _run, run_automation
from app.services.messaging import outbound
from tests.blueprints.test_sitter_queries import count_statements
from tests.support.pg_locks import wait_for_lock_waiters

NY = ZoneInfo("America/New_York")

# Statements one due run sends its text with: the try's count (committed first: app.jobs.tries),
# the run locked with everything its decision needs, the message row, the run's status (committed
# with the message). Was 13 before issue 28 (a read each of the booking, org, client, pets, sitter,
# the cap, the template twice, the thread, the number and the recipient; the message flushed).
RUN_STATEMENTS = 4


def test_a_due_run_sends_its_text_in_four_statements_and_only_once(make, clock, monkeypatch):
    clock.set(datetime(2026, 11, 20, 10, 0, tzinfo=NY))
    client = make.client(name="Alex Moreno", pets=("Mochi", "Tofu"))
    booking = make.booking(client=client, sitter=make.sitter(name="Sasha Reed", with_login=False),
                           start=datetime(2026, 11, 25, 9, 0, tzinfo=NY), status="confirmed")
    thread = make.thread(booking)
    run_id = make.automation_run(booking, "booking_confirmation").id
    queued = []
    monkeypatch.setattr(outbound, "enqueue_send", queued.append)  # the send job is not counted here

    with count_statements() as seen:
        assert run_automation(run_id) == "sent"
    assert len(seen) == RUN_STATEMENTS, "\n".join(seen)

    db.session.rollback()
    message = db.session.scalars(select(Message).where(Message.org_id == booking.org_id)).one()
    assert queued == [message.id]
    assert (message.thread_id, message.message_number_id, message.to_e164, message.status) == (
        thread.id, thread.message_number_id, client.phone_e164, "queued")
    assert message.from_e164 == thread.message_number.e164
    assert "Hi Alex! Your" in message.body and "for Mochi and Tofu with Sasha" in message.body
    assert "Wed, Nov 25 at 9:00 AM" in message.body
    run = db.session.get(AutomationRun, run_id)
    assert (run.status, run.message_id, run.attempts) == ("sent", message.id, 1)
    assert run_automation(run_id) == "sent"  # a duplicate job: nothing more
    assert db.session.scalars(select(Message.id).where(Message.org_id == booking.org_id)).all() == [message.id]


@pytest.mark.postgres_only
def test_a_run_held_by_another_transaction_waits_and_sends_what_that_one_committed(app, make, clock):
    """The one-statement read skips a locked run (its snapshot would predate the holder's commit):
    the run waits for the lock, then reads again, so the text names the sitter just changed."""
    import threading

    clock.set(datetime(2026, 11, 20, 10, 0, tzinfo=NY))
    booking = make.booking(sitter=make.sitter(name="Sasha Reed", with_login=False),
                           start=datetime(2026, 11, 25, 9, 0, tzinfo=NY), status="confirmed")
    make.thread(booking)
    new_sitter = make.sitter(name="Bo Lind", with_login=False)
    run_id = make.automation_run(booking, "booking_confirmation").id
    statuses = []

    def work():
        with app.app_context():  # its own session and connection, as a worker has
            try:
                statuses.append(_run(run_id))
            except Exception as exc:  # said by the assertions below, not lost in the thread
                statuses.append(repr(exc))

    racer = threading.Thread(target=work)
    with db.engine.connect() as holder:
        holder.execute(select(AutomationRun.id).where(AutomationRun.id == run_id).with_for_update())
        holder.execute(update(Booking).where(Booking.id == booking.id).values(sitter_id=new_sitter.id))
        racer.start()
        assert wait_for_lock_waiters(db.engine, 1, [racer]) == 1, statuses  # it really waits on the lock
        holder.commit()
    racer.join(10)
    assert statuses == ["sent"]
    db.session.rollback()
    body = db.session.scalars(select(Message.body).where(Message.org_id == booking.org_id)).one()
    assert "with Bo is confirmed" in body
