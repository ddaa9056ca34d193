"""Permanent failures end: `failed` with a reason, an audit event and an owner alert, never a loop."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs.queue import get_queue
from app.models import Alert, AutomationRun, AutomationTemplate, EventLog, Message
from app.services.bookings.confirmed import on_booking_confirmed
from app.services.ops.reconcile import reconcile

pytestmark = pytest.mark.faults


@pytest.mark.parametrize("body", [
    "Hi {% include 'other.txt' %}",  # the sandbox fails it at render, with a TypeError
    "Hi {{ client_first_name.__class__.__mro__ }}",  # refused by the sandbox (SecurityError)
    "{% for i in range(10**9) %}x{% endfor %}",  # range() over the sandbox's limit (OverflowError)
])
def test_a_template_that_cannot_render_fails_its_run_with_reason_event_and_alert(make, clock, body):
    """Whatever the error, saved before validation existed or slipping past it: the run ends."""
    make.number("pool")
    org = make.default_org
    db.session.add(AutomationTemplate(org_id=org.id, kind="booking_confirmation", body=body))
    db.session.commit()
    booking = make.booking(sitter=None)
    on_booking_confirmed(booking.id)

    run = db.session.scalar(select(AutomationRun).where(AutomationRun.booking_id == booking.id,
                                                        AutomationRun.kind == "booking_confirmation"))
    assert run.status == "failed" and run.reason and run.attempts == 1
    events = db.session.scalars(select(EventLog).where(EventLog.kind == "automation.failed")).all()
    assert [e.booking_id for e in events] == [booking.id]
    [alert] = db.session.scalars(select(Alert).where(Alert.kind == "automation.failed")).all()
    assert alert.audience == "owner" and f"#{booking.id}" in alert.text
    assert db.session.scalar(select(Message.id)) is None  # nothing was sent

    queue = get_queue()
    for _at, job_id, _func in queue.scheduled():
        queue.cancel(job_id)  # as if the process restarted: every job lost
    assert reconcile().counts["automation_runs"] == 1  # the follow-up; not the failed run
    db.session.expire_all()
    assert db.session.get(AutomationRun, run.id).status == "failed"
