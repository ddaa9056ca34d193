"""The automation job: one run sent at most once, if it is still due and still true.

A try is counted and committed first (app.jobs.tries). Then one statement locks the run and
reads everything its decision needs: the booking, the client (opted out, number, zone, pets),
the org (zone, quiet hours, name), the sitter, the org's saved template, the booking thread and
its number, the client's automated texts of the last 24 hours (the cap) and whether a text has
ever gone to them. The common case then writes the message and the run's status and commits:
four statements and two commits per run (issue 28; thirteen and two before), the first commit not
waiting for the disk on PostgreSQL (`_COUNT_TRY_PG`).

The lock skips a row another transaction holds (SKIP LOCKED): that statement's snapshot would
predate whatever the holder commits (a sitter change, a cancellation), so the run then waits
for the lock and reads again, afresh.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import and_, bindparam, func, select, update

from app.clock import utcnow
from app.extensions import db
from app.jobs.specs import EARLY_TOLERANCE
from app.jobs.tries import count_try_statement, counted_try
from app.models import (
    AutomationRun,
    AutomationTemplate,
    Booking,
    Client,
    Message,
    MessageNumber,
    Org,
    Pet,
    Sitter,
    Thread,
)
from app.models.people import first_name_of, pet_names_of
from app.persistence.locking import is_postgresql
from app.services.audit.events import raise_alert, record_event
from app.services.automations import send as sender
from app.services.automations.run_facts import Place as _Place
from app.services.automations.run_facts import RunFacts
from app.services.automations.runs import (
    AUTOMATED_PER_DAY_SPAN,
    MAX_AUTOMATED_PER_DAY,
    after_quiet_hours,
    client_quiet,
    enqueue_run,
    in_quiet_hours,
)
from app.services.automations.templates import TemplateRenderError, saved_or_default, text_context
from app.services.bookings.threads import booking_thread_key
from app.services.messaging.wording import earlier_text_exists

log = logging.getLogger(__name__)

_runs, _bookings, _clients, _orgs = (AutomationRun.__table__, Booking.__table__, Client.__table__, Org.__table__)
_sitters, _saved, _threads, _numbers = (Sitter.__table__, AutomationTemplate.__table__, Thread.__table__,
                                        MessageNumber.__table__)
_pets, _messages = Pet.__table__, Message.__table__

# Statements built once: each run differs only in its parameters.
_COUNT_TRY = count_try_statement(_runs, "attempts", ("scheduled",))
# On PostgreSQL the count's commit does not wait for its WAL flush (synchronous_commit off for
# that transaction alone, set by the same statement). The try still counts if the worker dies:
# the server has it, and the run's own commit, which waits, flushes it too (the WAL is written in
# order). Only a crash of the server before that could lose a count, and the try's work with it.
_COUNT_TRY_PG = _COUNT_TRY.returning(func.set_config("synchronous_commit", "off", True))

# When the client's automated texts reached the cap: the MAX_AUTOMATED_PER_DAY-th most recent of
# the last 24 h (NULL while fewer); the next may go 24 h after it.
_CAP_REACHED_AT = (
    select(_messages.c.created_at)
    .where(_messages.c.org_id == _runs.c.org_id, _messages.c.to_e164 == _clients.c.phone_e164,
           _messages.c.direction == "outbound", _messages.c.sender_kind == "automation",
           _messages.c.status.notin_(("blocked", "failed")),
           _messages.c.created_at > bindparam("since", type_=_messages.c.created_at.type))
    .order_by(_messages.c.created_at.desc()).offset(MAX_AUTOMATED_PER_DAY - 1).limit(1)
    .scalar_subquery()
)

# One row per pet of the client (one with NULLs when none), in the order the client's pets are named.
_READ_RUN = (
    select(_runs.c.status, _runs.c.kind, _runs.c.scheduled_for, _runs.c.org_id, _runs.c.booking_id,
           _bookings.c.status.label("booking_status"), _bookings.c.start_at, _bookings.c.end_at,
           _bookings.c.service, _clients.c.name.label("client_name"), _clients.c.opted_out,
           _clients.c.phone_e164, _clients.c.timezone.label("client_timezone"), _orgs.c.name.label("org_name"),
           _orgs.c.timezone, _orgs.c.quiet_start_hour, _orgs.c.quiet_end_hour,
           _sitters.c.id.label("sitter_id"), _sitters.c.name.label("sitter_name"),
           _saved.c.body.label("saved_body"), _saved.c.enabled.label("saved_enabled"),
           _threads.c.id.label("thread_id"), _threads.c.message_number_id, _numbers.c.e164.label("from_e164"),
           _CAP_REACHED_AT.label("cap_reached_at"),
           earlier_text_exists(_runs.c.org_id, _clients.c.phone_e164).label("texted_before"),
           _pets.c.name.label("pet_name"))
    .select_from(
        _runs.join(_bookings, _bookings.c.id == _runs.c.booking_id)
        .join(_clients, _clients.c.id == _bookings.c.client_id)
        .join(_orgs, _orgs.c.id == _runs.c.org_id)
        .outerjoin(_sitters, _sitters.c.id == _bookings.c.sitter_id)
        .outerjoin(_saved, and_(_saved.c.org_id == _runs.c.org_id, _saved.c.kind == _runs.c.kind))
        .outerjoin(_threads, booking_thread_key(_bookings.c.org_id, _bookings.c.client_id, _bookings.c.id))
        .outerjoin(_numbers, _numbers.c.id == _threads.c.message_number_id)
        .outerjoin(_pets, _pets.c.client_id == _clients.c.id)
    )
    .where(_runs.c.id == bindparam("run_id"))
    .order_by(_pets.c.id)
    # FOR NO KEY UPDATE OF the run alone (app.persistence.locking); SKIP LOCKED: see the module's doc.
    .with_for_update(of=_runs, key_share=True, skip_locked=True)
)
_LOCK_RUN = (select(_runs.c.status, _runs.c.kind, _runs.c.org_id, _runs.c.booking_id)
             .where(_runs.c.id == bindparam("run_id")).with_for_update(of=_runs, key_share=True))
_SET_STATUS = (update(_runs).where(_runs.c.id == bindparam("run_id"))
               .values(status=bindparam("new_status"), reason=bindparam("new_reason")))
_SENT = (update(_runs).where(_runs.c.id == bindparam("run_id"))
         .values(status="sent", reason=None, message_id=bindparam("new_message_id")))
# Waiting is no try: its count is undone, and the run is due again at `due`.
_WAIT = (update(_runs).where(_runs.c.id == bindparam("run_id"))
         .values(attempts=_runs.c.attempts - 1, scheduled_for=bindparam("due")))


def _read_run(run_id: int, now: datetime) -> RunFacts | None:
    """The run, locked, with its facts; None when it is missing or another transaction holds it."""
    rows = db.session.execute(_READ_RUN, {"run_id": run_id, "since": now - AUTOMATED_PER_DAY_SPAN}).all()
    if not rows:
        return None
    row = rows[0]
    body, enabled = saved_or_default(row.kind, row.saved_body, row.saved_enabled)
    context = text_context(
        client_first_name=first_name_of(row.client_name),
        pet_names=pet_names_of([r.pet_name for r in rows if r.pet_name is not None]),
        sitter_first_name=first_name_of(row.sitter_name) if row.sitter_id is not None else None,
        service=row.service, start_at=row.start_at, end_at=row.end_at, org_timezone=row.timezone,
        business_name=row.org_name)
    return RunFacts(
        run_id=run_id, status=row.status, kind=row.kind, scheduled_for=row.scheduled_for, org_id=row.org_id,
        booking_id=row.booking_id, booking_status=row.booking_status, start_at=row.start_at,
        opted_out=row.opted_out, client=_Place(row.client_timezone, row.phone_e164),
        org=_Place(row.timezone, quiet_start_hour=row.quiet_start_hour, quiet_end_hour=row.quiet_end_hour),
        cap_reached_at=row.cap_reached_at, body=body, enabled=enabled, context=context,
        thread_id=row.thread_id, thread_number_id=row.message_number_id, from_e164=row.from_e164,
        to_e164=row.phone_e164, business_name=row.org_name, texted_before=bool(row.texted_before))


def run_automation(run_id: int) -> str:
    """The job body: send one run if it is still due and still true; returns the run's status.

    Each try is counted first (app.jobs.tries): a run whose job keeps failing (a database
    bug, a worker killed mid-run) ends `failed` with an owner alert after MAX_TRIES."""
    count = _COUNT_TRY_PG if is_postgresql() else _COUNT_TRY
    status = counted_try(count, run_id, lambda: _run(run_id), lambda reason: _give_up(run_id, reason),
                         label=f"automation run {run_id}")
    if status is None:  # sent, cancelled, skipped or failed already: never again
        status = db.session.scalar(select(_runs.c.status).where(_runs.c.id == run_id)) or "missing"
        db.session.commit()
    return status


def _finish(run_id: int, status: str, reason: str | None = None) -> str:
    db.session.execute(_SET_STATUS, {"run_id": run_id, "new_status": status, "new_reason": reason})
    db.session.commit()
    return status


def _wait(run_id: int, due: datetime) -> str:
    """The run waits for `due`: enqueued again, and this was no try (its count undone)."""
    db.session.execute(_WAIT, {"run_id": run_id, "due": due})  # a write: the job waits for the commit
    enqueue_run(run_id, due)
    db.session.commit()
    return "waiting"


def _fail_run(run_id: int, org_id: int, booking_id: int, kind: str, reason: str) -> str:
    """`failed` for good: an audit event and an owner alert."""
    reason = reason[:300]
    record_event(org_id, "automation.failed", booking_id=booking_id, automation=kind, reason=reason)
    raise_alert(org_id, "automation.failed",
                f"The {kind.replace('_', ' ')} text for booking #{booking_id} was not sent: {reason}",
                booking_id=booking_id)
    return _finish(run_id, "failed", reason)


def _give_up(run_id: int, reason: str) -> str:
    run = db.session.execute(_LOCK_RUN, {"run_id": run_id}).first()
    if run is None or run.status != "scheduled":
        db.session.commit()
        return run.status if run is not None else "missing"
    log.error("automation run %s failed for good: %s", run_id, reason)
    return _fail_run(run_id, run.org_id, run.booking_id, run.kind, f"Not sent: {reason}")


def _run(run_id: int) -> str:
    now = utcnow()
    run = _read_run(run_id, now)
    if run is None:  # missing, or held by another transaction: wait for it, then read afresh
        if db.session.execute(_LOCK_RUN, {"run_id": run_id}).first() is None:
            db.session.commit()
            return "missing"
        run = _read_run(run_id, now)
        if run is None:  # its booking, client or org gone since (the run goes with its booking)
            db.session.commit()
            return "missing"
    if run.status != "scheduled":
        db.session.commit()
        return run.status  # sent, cancelled, skipped or failed already: never again
    if run.scheduled_for > now + EARLY_TOLERANCE:
        return _wait(run_id, run.scheduled_for)  # a stale job (the run was moved later): wait for the row's time
    if run.kind == "booking_cancelled":
        if run.booking_status != "cancelled":
            return _finish(run_id, "cancelled", "booking_not_cancelled")
    elif run.booking_status == "cancelled":
        return _finish(run_id, "cancelled", "booking_cancelled")
    elif run.booking_status == "pending":
        return _finish(run_id, "skipped", "booking_not_confirmed")
    if run.opted_out:
        return _finish(run_id, "skipped", "opted_out")
    if run.kind == "night_before_reminder" and run.start_at <= now:
        return _finish(run_id, "skipped", "visit_already_started")
    zone = client_quiet(run.client, run.org)  # re-judged now, in the client's time and the law's hours
    if in_quiet_hours(now, run.org, zone):
        return _wait(run_id, after_quiet_hours(now, run.org, zone))
    if run.cap_reached_at is not None:  # 3 automated texts in 24 h already: the next waits its turn
        return _wait(run_id, after_quiet_hours(run.cap_reached_at + AUTOMATED_PER_DAY_SPAN, run.org, zone))
    if not run.enabled:
        return _finish(run_id, "skipped", "template_disabled")
    try:
        message_id = sender.queue_run_text(run)
    except (TemplateRenderError, sender.NoSendingNumber) as exc:
        return _fail_run(run_id, run.org_id, run.booking_id, run.kind, str(exc))
    db.session.execute(_SENT, {"run_id": run_id, "new_message_id": message_id})
    db.session.commit()
    return "sent"
