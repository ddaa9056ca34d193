"""Automated texts as AutomationRun rows: the database is the truth, the queue the transport.

Each (booking, kind) has one run. Planning writes the row (INSERT … ON CONFLICT
DO NOTHING) and enqueues job `app.jobs.run_automation` with a job id derived
from the row, after commit. The job (app.services.automations.run_job) re-reads the row and the
booking under a row lock before sending, so a lost, duplicated, early or stale job never sends
twice or sends something no longer true. app.services.ops.reconcile re-enqueues
every scheduled run the queue does not hold (a Redis restart loses nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.jobs.queue import enqueue, get_queue
from app.jobs.specs import JOBS
from app.models import AutomationRun, Booking, Client, Org
from app.persistence.locking import insert_all_if_absent, insert_if_absent
from app.services.people.timezones import client_zone_name, state_of_number

REMINDER_LOCAL_TIME = time(18, 0)
REASON_BOOKED_LATE = "booked_after_reminder_time"
# Carrier and state rules: at most 3 automated texts to one client in 24 hours.
MAX_AUTOMATED_PER_DAY = 3
AUTOMATED_PER_DAY_SPAN = timedelta(hours=24)


# The law's quiet hours in the recipient's time, whatever an org sets: texts only from 8 a.m. to
# 9 p.m. (federal), to 8 p.m. in Florida and Oklahoma (their area code is presumed to be where they are).
LEGAL_QUIET_END = 8
FEDERAL_QUIET_START = 21
STATE_QUIET_START = {"Florida": 20, "Oklahoma": 20}


@dataclass(frozen=True)
class ClientQuiet:
    """Where and how a client's quiet hours are judged: their zone, and the hour the law ends
    automated texts there."""

    zone: str
    legal_start: int


def client_quiet(client: Client | None, org: Org) -> ClientQuiet:
    """The client's zone and the law's hour there; no client: the org's zone and the federal 9 p.m."""
    state = state_of_number(client.phone_e164) if client is not None else None
    return ClientQuiet(client_zone_name(client, org), STATE_QUIET_START.get(state, FEDERAL_QUIET_START))


def _zone(org: Org) -> ZoneInfo:
    return ZoneInfo(org.timezone)


def _hours_between(start: int, end: int) -> set[int]:
    """The hours from `start` up to `end` (across midnight when start > end; none when equal)."""
    return {h for h in range(24) if ((h >= start or h < end) if start > end else (start <= h < end))}


def _quiet_hours(org: Org, legal_start: int) -> frozenset[int]:
    """The local hours that are quiet: the law's (8 a.m. to `legal_start`), always, widened by the
    org's own (quiet_start_hour to quiet_end_hour; the same hour twice: none of its own). The org's
    hours only ever add: an org whose hours would leave no sending hour beside the law's gets the
    law's alone."""
    law = _hours_between(legal_start, LEGAL_QUIET_END)
    hours = law | _hours_between(org.quiet_start_hour, org.quiet_end_hour)
    return frozenset(hours if len(hours) < 24 else law)


def _where(org: Org, quiet: ClientQuiet | None) -> tuple[ZoneInfo, int]:
    quiet = quiet or client_quiet(None, org)
    return ZoneInfo(quiet.zone), quiet.legal_start


def in_quiet_hours(when: datetime, org: Org, quiet: ClientQuiet | None = None) -> bool:
    """No automation reaches a client in the law's quiet hours or the org's, in their local time:
    for a client (client_quiet), their zone and their state's law; without one, the org's zone and
    the federal law."""
    zone, legal_start = _where(org, quiet)
    return when.astimezone(zone).hour in _quiet_hours(org, legal_start)


def after_quiet_hours(when: datetime, org: Org, quiet: ClientQuiet | None = None) -> datetime:
    """`when`, or the end of the quiet period it falls in (the first hour:00 after it that is not
    quiet, wall-clock time in that zone)."""
    zone, legal_start = _where(org, quiet)
    hours = _quiet_hours(org, legal_start)
    local = when.astimezone(zone)
    if local.hour not in hours:
        return when
    wall = local.replace(minute=0, second=0, microsecond=0, tzinfo=None)
    for step in range(1, 25):
        candidate = wall + timedelta(hours=step)
        if candidate.hour not in hours:
            return candidate.replace(tzinfo=zone).astimezone(when.tzinfo)
    return when  # not reached: _quiet_hours always leaves an hour to send in


def quiet_spans(org: Org, quiet: ClientQuiet | None = None) -> list[tuple[int, int]]:
    """The quiet hours as (start, end) local hours, e.g. [(20, 8)]: the law's and the org's."""
    hours = _quiet_hours(org, _where(org, quiet)[1])
    starts = sorted(h for h in hours if (h - 1) % 24 not in hours)
    spans = []
    for start in starts:
        end = start
        while end in hours:
            end = (end + 1) % 24
        spans.append((start, end))
    return spans


def automation_sends_at(when: datetime, client: Client, org: Org) -> datetime:
    """When a run scheduled for `when` reaches the client: its time, or the end of their quiet
    hours then (the run waits for it when due, app.services.automations.run_job._run)."""
    return after_quiet_hours(when, org, client_quiet(client, org))


def night_before_reminder_at(booking: Booking, org: Org) -> datetime:
    """18:00 org time on the day before the visit starts (DST-correct wall-clock time)."""
    zone = _zone(org)
    day_before = booking.start_at.astimezone(zone).date() - timedelta(days=1)
    return datetime.combine(day_before, REMINDER_LOCAL_TIME, tzinfo=zone).astimezone(booking.start_at.tzinfo)


def enqueue_run(run_id: int, at: datetime) -> None:
    """Hand the run to the queue (after the caller commits)."""
    enqueue(JOBS.run_automation, run_id, at=at)


def cancel_run_job(run_id: int) -> None:
    """Take the run's job off the queue (tidy only: the job re-checks the row anyway)."""
    get_queue().cancel(JOBS.run_automation.id_for(run_id))


def create_run(booking: Booking, kind: str, due: datetime, *, status: str = "scheduled",
               reason: str | None = None) -> int | None:
    """Add the (booking, kind) run unless it exists; enqueue it when scheduled. New id or None."""
    run_id = insert_if_absent(AutomationRun, ("booking_id", "kind"), org_id=booking.org_id,
                              booking_id=booking.id, kind=kind, status=status, scheduled_for=due,
                              reason=reason, attempts=0)
    if run_id is not None and status == "scheduled":
        enqueue_run(run_id, due)
    return run_id


def plan_confirmed_booking(booking: Booking, org: Org, window_ends_at: datetime) -> list[str]:
    """The runs a confirmed booking gets; returns the kinds created by this call."""
    now = utcnow()
    created = []
    plan = []
    # Planned in the org's zone with the federal law (no read of the client on the confirm path);
    # each run re-checks quiet hours in the client's own zone when it is due (_run) and waits for
    # their morning.
    zone = None
    if booking.end_at <= now:
        plan.append(("booking_confirmation", now, "skipped", "booking_already_over"))
    else:
        plan.append(("booking_confirmation", after_quiet_hours(now, org, zone), "scheduled", None))
    reminder_at = night_before_reminder_at(booking, org)
    if reminder_at <= now:
        plan.append(("night_before_reminder", reminder_at, "skipped", REASON_BOOKED_LATE))
    else:
        plan.append(("night_before_reminder", after_quiet_hours(reminder_at, org, zone), "scheduled", None))
    if not org.visit_followup_enabled:
        plan.append(("visit_followup", window_ends_at, "skipped", "followup_disabled"))
    elif window_ends_at <= now:
        plan.append(("visit_followup", window_ends_at, "skipped", "window_already_ended"))
    else:
        plan.append(("visit_followup", after_quiet_hours(window_ends_at, org, zone), "scheduled", None))
    # One multi-row INSERT … ON CONFLICT DO NOTHING for the three runs (same rows as create_run).
    rows = [dict(org_id=booking.org_id, booking_id=booking.id, kind=kind, status=status, scheduled_for=due,
                 reason=reason, attempts=0) for kind, due, status, reason in plan]
    new_ids = {row.kind: row.id for row in
               insert_all_if_absent(AutomationRun, ("booking_id", "kind"), rows, "id", "kind")}
    for kind, due, status, _reason in plan:
        if kind in new_ids:
            created.append(kind)
            if status == "scheduled":
                enqueue_run(new_ids[kind], due)
    return created


def queue_run_now(booking: Booking, org: Org, kind: str) -> None:
    """Send `kind` as soon as quiet hours allow (cancellation, sitter change).

    One row per (booking, kind): a second sitter change re-arms the same row.
    """
    due = after_quiet_hours(utcnow(), org, client_quiet(booking.client, org))
    run_id = create_run(booking, kind, due)
    if run_id is not None:
        return
    run = db.session.scalar(select(AutomationRun).where(AutomationRun.booking_id == booking.id,
                                                        AutomationRun.kind == kind))
    if run.status == "scheduled" and run.scheduled_for <= due:
        return  # already on its way
    rearm_run(run, due)
    run.message_id = None
    db.session.flush()
    enqueue_run(run.id, due)


def rearm_run(run: AutomationRun, due: datetime) -> None:
    """Schedule a run again for `due`, with a fresh count of tries (app.jobs.tries)."""
    run.status, run.scheduled_for, run.reason, run.attempts = "scheduled", due, None, 0


def cancel_pending_runs(booking_id: int, reason: str) -> list[str]:
    """Cancel every scheduled run of the booking; returns their kinds."""
    runs = db.session.scalars(select(AutomationRun).where(AutomationRun.booking_id == booking_id,
                                                          AutomationRun.status == "scheduled")).all()
    for run in runs:
        run.status, run.reason = "cancelled", reason
        cancel_run_job(run.id)
    return [run.kind for run in runs]


def confirmation_was_sent(booking_id: int) -> bool:
    return db.session.scalar(
        select(AutomationRun.id).where(AutomationRun.booking_id == booking_id,
                                       AutomationRun.kind == "booking_confirmation",
                                       AutomationRun.status == "sent")
    ) is not None


def move_runs_for_new_times(booking: Booking, org: Org, window_ends_at: datetime) -> None:
    """After a reschedule: the reminder and follow-up follow the booking's new times."""
    now = utcnow()
    runs = {run.kind: run for run in db.session.scalars(
        select(AutomationRun).where(AutomationRun.booking_id == booking.id,
                                    AutomationRun.kind.in_(("night_before_reminder", "visit_followup"))))}
    zone = client_quiet(booking.client, org)
    reminder = runs.get("night_before_reminder")
    if reminder is not None and (reminder.status == "scheduled" or reminder.reason == REASON_BOOKED_LATE):
        at = night_before_reminder_at(booking, org)
        if at <= now:
            reminder.status, reminder.reason, reminder.scheduled_for = "skipped", REASON_BOOKED_LATE, at
        else:
            rearm_run(reminder, after_quiet_hours(at, org, zone))
    followup = runs.get("visit_followup")
    if followup is not None and followup.status == "scheduled":
        followup.scheduled_for = after_quiet_hours(max(window_ends_at, now), org, zone)
    db.session.flush()
    for run in runs.values():
        if run.status == "scheduled":
            cancel_run_job(run.id)
            enqueue_run(run.id, run.scheduled_for)
