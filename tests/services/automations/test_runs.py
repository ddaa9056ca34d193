"""Automations: one run per (booking, kind), sent from the thread number, on time, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs.queue import get_queue
from app.jobs.specs import JOBS, QUEUE_NAMES
from app.models import Alert, AutomationRun, AutomationTemplate, EventLog, Message, OutboxEntry, Thread
from app.services.automations.run_job import run_automation
from app.services.automations.send import send_automation_message_via_thread
from app.services.bookings.confirmed import on_booking_confirmed
from app.services.bookings.lifecycle import cancel_booking, change_sitter
from app.services.ops.reconcile import requeue_scheduled_runs
from tests.support.daytime import live_in_daytime

NY = ZoneInfo("America/New_York")


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def outbox() -> list[OutboxEntry]:
    db.session.rollback()  # jobs write from their own sessions
    return list(db.session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def runs(booking_id: int) -> dict[str, AutomationRun]:
    db.session.rollback()
    return {r.kind: r for r in db.session.scalars(select(AutomationRun)
                                                   .where(AutomationRun.booking_id == booking_id))}


def sent_kinds() -> list[str]:
    db.session.rollback()
    rows = db.session.execute(
        select(AutomationRun.kind).join(Message, Message.id == AutomationRun.message_id)
        .join(OutboxEntry, OutboxEntry.message_id == Message.id).order_by(OutboxEntry.id))
    return [kind for (kind,) in rows]


def confirmed_booking(make, clock, now, start, **booking_kw):
    """Clock at `now`, one pool number, a booking at `start` confirmed through the handler."""
    clock.set(now)
    make.number("pool")
    booking_kw.setdefault("sitter", None)  # a sitter with a login costs a password hash
    booking = make.booking(start=start, **booking_kw)
    on_booking_confirmed(booking.id)
    return booking


def test_every_kind_is_sent_from_the_thread_number(make, clock):
    clock.set(ny(2026, 11, 20, 10, 0))
    pool = make.number("pool")
    make.number("front_desk")
    new_sitter = make.sitter(with_login=False)
    booking = make.booking(start=ny(2026, 11, 22, 9, 0), sitter=None)
    other = make.booking(start=ny(2026, 11, 23, 9, 0), sitter=None)
    on_booking_confirmed(booking.id)
    on_booking_confirmed(other.id)
    change_sitter(booking.id, new_sitter.id)
    cancel_booking(other.id, "client asked")
    clock.set(ny(2026, 11, 21, 18, 0))
    get_queue().run_due()
    clock.set(ny(2026, 11, 22, 11, 0))  # the window (9-10, +60 min grace) has ended
    get_queue().run_due()

    threads = {t.booking_id: t for t in db.session.scalars(select(Thread))}
    sent = outbox()
    by_to = {}
    for entry in sent:
        by_to.setdefault(entry.to_e164, []).append(entry)
    assert sorted(sent_kinds()) == sorted(["booking_confirmation", "booking_confirmation", "sitter_changed",
                                           "booking_cancelled", "night_before_reminder", "visit_followup"])
    for booking_row in (booking, other):
        number = threads[booking_row.id].message_number.e164
        assert {e.from_e164 for e in by_to[booking_row.client.phone_e164]} == {number}
    assert threads[booking.id].message_number_id == pool.id or threads[other.id].message_number_id == pool.id
    assert new_sitter.first_name in next(e.body for e in sent if "will now look after" in e.body)


def test_without_a_thread_automation_falls_back_to_the_front_desk_and_says_so(make):
    desk = make.number("front_desk")
    booking = make.booking(status="confirmed", sitter=None)
    message = send_automation_message_via_thread(booking.id, "booking_confirmation")
    db.session.commit()
    assert message.message_number_id == desk.id and message.thread_id is None
    assert [e.from_e164 for e in outbox()] == [desk.e164]
    kinds = db.session.scalars(select(EventLog.kind).where(EventLog.booking_id == booking.id)).all()
    assert kinds == ["automation.fallback_front_desk"]


def test_confirmation_is_sent_once_however_often_the_booking_is_confirmed(make):
    make.number("pool")
    booking = make.booking(sitter=None)
    for _ in range(3):
        on_booking_confirmed(booking.id)
    run = runs(booking.id)["booking_confirmation"]
    assert run.status == "sent" and run.message_id is not None
    assert run_automation(run.id) == "sent"  # a duplicate job changes nothing
    assert len(outbox()) == 1


@pytest.mark.parametrize(("start", "reminder_utc"), [
    (ny(2026, 3, 8, 10, 0), datetime(2026, 3, 7, 23, 0, tzinfo=UTC)),   # EST evening, EDT morning
    (ny(2026, 11, 1, 10, 0), datetime(2026, 10, 31, 22, 0, tzinfo=UTC)),  # EDT evening, EST morning
])
def test_night_before_reminder_is_six_pm_local_across_dst(make, clock, start, reminder_utc):
    clock.set(start - timedelta(days=5))
    make.number("pool")
    booking = make.booking(start=start, sitter=None)
    on_booking_confirmed(booking.id)
    reminder = runs(booking.id)["night_before_reminder"]
    assert reminder.status == "scheduled" and reminder.scheduled_for == reminder_utc
    assert reminder_utc.astimezone(NY).hour == 18
    clock.set(reminder_utc - timedelta(minutes=1))
    get_queue().run_due()
    assert runs(booking.id)["night_before_reminder"].status == "scheduled"
    clock.set(reminder_utc)
    get_queue().run_due()
    assert runs(booking.id)["night_before_reminder"].status == "sent"
    assert sorted(sent_kinds()) == ["booking_confirmation", "night_before_reminder"]


def test_reminder_is_skipped_with_a_reason_when_booked_after_six_pm_the_day_before(make, clock):
    booking = confirmed_booking(make, clock, ny(2026, 11, 21, 19, 30), ny(2026, 11, 22, 9, 0))
    reminder = runs(booking.id)["night_before_reminder"]
    assert (reminder.status, reminder.reason) == ("skipped", "booked_after_reminder_time")
    clock.set(ny(2026, 11, 22, 8, 0))
    get_queue().run_due()
    assert "night_before_reminder" not in sent_kinds()


def test_cancel_before_the_reminder_means_no_reminder_and_one_cancellation(make, clock):
    booking = confirmed_booking(make, clock, ny(2026, 11, 20, 10, 0), ny(2026, 11, 22, 9, 0))
    cancel_booking(booking.id, "refund")
    cancel_booking(booking.id, "refund again")
    on_booking_confirmed(booking.id)  # a late payment event
    clock.set(ny(2026, 11, 23, 12, 0))
    get_queue().run_due()
    assert sent_kinds() == ["booking_confirmation", "booking_cancelled"]
    state = {kind: (run.status, run.reason) for kind, run in runs(booking.id).items()}
    assert state["night_before_reminder"] == ("cancelled", "booking_cancelled")
    assert state["visit_followup"] == ("cancelled", "booking_cancelled")


def test_stale_reminder_job_of_a_cancelled_booking_sends_nothing(make, clock):
    booking = confirmed_booking(make, clock, ny(2026, 11, 20, 10, 0), ny(2026, 11, 22, 9, 0))
    reminder_id = runs(booking.id)["night_before_reminder"].id
    cancel_booking(booking.id, "owner")
    clock.set(ny(2026, 11, 21, 18, 0))
    assert run_automation(reminder_id) == "cancelled"  # the queue lost the cancel: the row decides
    assert "night_before_reminder" not in sent_kinds()


def test_confirmation_in_quiet_hours_waits_for_eight_am(make, clock):
    booking = confirmed_booking(make, clock, ny(2026, 11, 20, 22, 30), ny(2026, 11, 23, 9, 0))
    confirmation = runs(booking.id)["booking_confirmation"]
    assert confirmation.status == "scheduled"
    assert confirmation.scheduled_for == ny(2026, 11, 21, 8, 0)
    assert outbox() == []
    clock.set(ny(2026, 11, 21, 7, 59))
    get_queue().run_due()
    assert outbox() == []
    clock.set(ny(2026, 11, 21, 8, 0))
    get_queue().run_due()
    assert sent_kinds() == ["booking_confirmation"]


def test_a_job_that_fires_late_into_quiet_hours_waits_too(make, clock):
    clock.set(ny(2026, 11, 20, 10, 0))
    make.number("pool")
    booking = make.booking(start=ny(2026, 11, 25, 9, 0), status="confirmed", sitter=None)
    make.automation_run(booking, "sitter_changed", scheduled_for=ny(2026, 11, 20, 20, 0))
    clock.set(ny(2026, 11, 20, 23, 15))  # the worker was down until after 21:00
    run_id = runs(booking.id)["sitter_changed"].id
    assert run_automation(run_id) == "waiting"
    assert runs(booking.id)["sitter_changed"].scheduled_for == ny(2026, 11, 21, 8, 0)
    assert outbox() == []


def test_org_quiet_hours_are_configurable(make, clock):
    org = make.default_org
    org.quiet_start_hour, org.quiet_end_hour = 13, 15
    db.session.commit()
    booking = confirmed_booking(make, clock, ny(2026, 11, 20, 14, 0), ny(2026, 11, 23, 9, 0))
    assert runs(booking.id)["booking_confirmation"].scheduled_for == ny(2026, 11, 20, 15, 0)


def test_opted_out_client_gets_nothing_and_runs_say_why(make, clock):
    booking = confirmed_booking(make, clock, ny(2026, 11, 20, 10, 0), ny(2026, 11, 22, 9, 0),
                                client=make.client(opted_out=True))
    clock.set(ny(2026, 11, 22, 12, 0))
    get_queue().run_due()
    state = {kind: (run.status, run.reason) for kind, run in runs(booking.id).items()}
    assert state == {k: ("skipped", "opted_out")
                     for k in ("booking_confirmation", "night_before_reminder", "visit_followup")}
    assert outbox() == []


def test_broken_template_fails_the_run_visibly_and_sends_nothing(make, clock):
    make.number("pool")
    org = make.default_org
    db.session.add(AutomationTemplate(org_id=org.id, kind="booking_confirmation",
                                      body="Hi {{ client_first_name|no_such_filter }}"))
    db.session.commit()
    booking = make.booking(sitter=None)
    on_booking_confirmed(booking.id)
    run = runs(booking.id)["booking_confirmation"]
    assert run.status == "failed" and "no_such_filter" in run.reason
    assert outbox() == [] and db.session.scalar(select(Message.id)) is None
    alert = db.session.scalar(select(Alert))
    assert alert.audience == "owner" and alert.kind == "automation.failed"


def test_disabled_template_skips_its_runs(make, clock):
    make.number("pool")
    org = make.default_org
    db.session.add(AutomationTemplate(org_id=org.id, kind="booking_confirmation",
                                      body="Hi {{ client_first_name }}", enabled=False))
    db.session.commit()
    booking = make.booking(sitter=None)
    on_booking_confirmed(booking.id)
    assert (runs(booking.id)["booking_confirmation"].status,
            runs(booking.id)["booking_confirmation"].reason) == ("skipped", "template_disabled")
    assert outbox() == []


def test_visit_followup_can_be_switched_off(make, clock):
    org = make.default_org
    org.visit_followup_enabled = False
    db.session.commit()
    make.number("pool")
    booking = make.booking(sitter=None)
    on_booking_confirmed(booking.id)
    followup = runs(booking.id)["visit_followup"]
    assert (followup.status, followup.reason) == ("skipped", "followup_disabled")


def test_in_process_reconcile_restores_lost_jobs(make, clock):
    confirmed_booking(make, clock, ny(2026, 11, 20, 10, 0), ny(2026, 11, 22, 9, 0))
    queue = get_queue()
    for _at, job_id, _func in queue.scheduled():
        queue.cancel(job_id)  # as if the process restarted
    assert requeue_scheduled_runs() == 2
    assert requeue_scheduled_runs() == 0
    clock.set(ny(2026, 11, 21, 18, 0))
    queue.run_due()
    clock.set(ny(2026, 11, 22, 12, 0))
    queue.run_due()
    assert sent_kinds() == ["booking_confirmation", "night_before_reminder", "visit_followup"]


def _fire_due_rq_jobs(now: datetime) -> int:
    """Do what RQ's scheduler does, but at the test clock's time (it reads the wall clock)."""
    from rq.registry import ScheduledJobRegistry

    backend, moved = get_queue(), 0
    for name in QUEUE_NAMES:
        queue = backend.queue(name)
        registry = ScheduledJobRegistry(queue=queue)
        for job_id in registry.get_jobs_to_schedule(int(now.timestamp())):
            job = backend.fetch(job_id)
            registry.remove(job_id)
            if job is not None:
                queue.enqueue_job(job)
                moved += 1
    return moved


def _redis_booking(clock):
    """On the RQ app: a booking three days out (wall-clock dates: RQ's registry reads real time)."""
    from tests.support.factories import Factories

    make = Factories(db.session, clock)  # the `make` fixture would bring the inline-queue app
    now = clock.set(datetime.now(UTC).replace(microsecond=0))
    # Whatever the hour here, the org and its client are where it is day (quiet hours always hold).
    zone = live_in_daytime(make, now)
    start = (now + timedelta(days=3)).astimezone(ZoneInfo(zone)).replace(hour=9, minute=0, second=0)
    return confirmed_booking(make, clock, now, start)


def test_redis_flush_after_scheduling_then_reconcile_still_sends_each_run_once(redis_app, clock):
    from redis import Redis

    from app.jobs.worker import build_worker

    booking = _redis_booking(clock)
    assert {r.status for r in runs(booking.id).values()} == {"scheduled"}

    Redis.from_url(redis_app.config["REDIS_URL"]).flushdb()
    assert not any(get_queue().holds(JOBS.run_automation.id_for(r.id)) for r in runs(booking.id).values())
    assert requeue_scheduled_runs() == 3
    assert all(get_queue().holds(JOBS.run_automation.id_for(r.id)) for r in runs(booking.id).values())

    worker = build_worker(redis_app, forking=False)
    worker.work(burst=True)
    assert sent_kinds() == ["booking_confirmation"]

    reminder_at = runs(booking.id)["night_before_reminder"].scheduled_for
    clock.set(reminder_at - timedelta(minutes=1))
    assert _fire_due_rq_jobs(clock.now) == 0
    clock.set(reminder_at)
    assert _fire_due_rq_jobs(clock.now) == 1
    build_worker(redis_app, forking=False).work(burst=True)
    assert sent_kinds() == ["booking_confirmation", "night_before_reminder"]

    clock.set(runs(booking.id)["visit_followup"].scheduled_for)
    Redis.from_url(redis_app.config["REDIS_URL"]).flushdb()  # lost again, just before its time
    assert requeue_scheduled_runs() == 1
    build_worker(redis_app, forking=False).work(burst=True)
    assert requeue_scheduled_runs() == 0
    build_worker(redis_app, forking=False).work(burst=True)
    assert sent_kinds() == ["booking_confirmation", "night_before_reminder", "visit_followup"]
    assert len(outbox()) == 3


def test_worker_start_reconciles_what_redis_lost(redis_app, clock):
    from redis import Redis

    from app.jobs.worker import on_worker_start

    booking = _redis_booking(clock)
    Redis.from_url(redis_app.config["REDIS_URL"]).flushdb()
    on_worker_start(redis_app)
    assert all(get_queue().holds(JOBS.run_automation.id_for(r.id)) for r in runs(booking.id).values())


def test_worker_loop_reconciles_too_so_a_flush_while_it_runs_loses_nothing(redis_app, clock):
    from redis import Redis

    from app.jobs.worker import build_worker

    booking = _redis_booking(clock)
    Redis.from_url(redis_app.config["REDIS_URL"]).flushdb()
    worker = build_worker(redis_app, forking=False)
    assert worker.maintenance_interval == 300
    worker.work(burst=True)  # its maintenance step re-enqueues, then it works the queue
    assert sent_kinds() == ["booking_confirmation"]
    assert get_queue().holds(JOBS.run_automation.id_for(runs(booking.id)["night_before_reminder"].id))
