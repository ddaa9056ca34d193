"""Moving a number's open conversations to newly chosen numbers, so any number can be retired.

Each thread moves in its own transaction under its booking's row lock, through the same
choice as a new booking (app.services.numbers.choice.choose_masking_number, the number being
left excluded): so the pool-leakage rule holds for moved threads too (a pool number never
carries two open threads of one client). The client is told from the new number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.localtime import format_datetime
from app.models import Booking, MessageNumber, Org, Thread
from app.persistence.locking import lock_row
from app.services.audit.events import raise_alert, record_event
from app.services.messaging.outbound import queue_outbound_message
from app.services.numbers.choice import (
    NumberChoice,
    carries_open_thread_of,
    choose_masking_number,
    front_desk_number_id,
    open_thread_of_client_on,
)
from app.services.people.phones import national_format
from app.services.queries.admin import open_threads_on_number


@dataclass
class MoveResult:
    moved: list[tuple[int, int]] = field(default_factory=list)  # (thread id, new number id)
    told: int = 0  # clients a "new number" text was queued for
    stuck: list[int] = field(default_factory=list)  # thread ids with no number to move to


def predict_masking_number(booking: Booking, avoid: tuple[int, ...] = ()) -> MessageNumber | None:
    """The number the booking's thread would get now (read-only: nothing locked or bumped).

    The same order as choose_masking_number; shown on confirm steps ("texts … from …"). A
    concurrent booking may take the pool number first: the confirmation then names the real one.
    """
    thread = db.session.scalar(select(Thread).where(Thread.booking_id == booking.id))
    if thread is not None and thread.message_number_id is not None and not avoid:
        return thread.message_number
    if not db.session.get(Org, booking.org_id).front_desk_only:  # that mode: the front desk or nothing
        found = _predict_sitter_or_pool_number(booking, avoid)
        if found is not None:
            return found
    desk = front_desk_number_id(booking.org_id)
    if not desk or desk in avoid or carries_open_thread_of(desk, booking):
        return None  # the thread would wait for a number
    return db.session.get(MessageNumber, desk)


def _predict_sitter_or_pool_number(booking: Booking, avoid: tuple[int, ...]) -> MessageNumber | None:
    if booking.sitter_id:
        own = db.session.scalar(
            select(MessageNumber).where(MessageNumber.org_id == booking.org_id, MessageNumber.kind == "sitter",
                                        MessageNumber.sitter_id == booking.sitter_id,
                                        MessageNumber.active.is_(True), MessageNumber.id.not_in(avoid or (0,)),
                                        ~open_thread_of_client_on(MessageNumber.id, booking.client_id, booking.id))
            .order_by(MessageNumber.id).limit(1))
        if own is not None:
            return own
    return db.session.scalar(
        select(MessageNumber)
        .where(MessageNumber.org_id == booking.org_id, MessageNumber.kind == "pool", MessageNumber.active.is_(True),
               MessageNumber.id.not_in(avoid or (0,)),
               ~open_thread_of_client_on(MessageNumber.id, booking.client_id, booking.id))
        .order_by(MessageNumber.last_assigned_at.asc().nulls_first(), MessageNumber.assignment_count,
                  MessageNumber.id)
        .limit(1))


def move_thread_off_number(booking: Booking, thread: Thread, number: MessageNumber, actor: str, *,
                           stuck_text: str) -> NumberChoice | None:
    """Give the thread a newly chosen number other than `number` (in the caller's transaction, which
    holds the booking's row lock), audited; with none free, the thread stays and owners are alerted."""
    choice = choose_masking_number(booking, keep_existing=False, avoid=(number.id,))
    if choice is None:
        raise_alert(booking.org_id, "booking.no_number", stuck_text, booking_id=booking.id, thread_id=thread.id)
        record_event(booking.org_id, "booking.no_number", booking_id=booking.id, thread_id=thread.id,
                     actor=actor, reason="no number to move the conversation to")
        return None
    thread.message_number_id, thread.number_reason = choice.number_id, choice.reason
    record_event(booking.org_id, "thread.number_changed", booking_id=booking.id, thread_id=thread.id,
                 sitter_id=booking.sitter_id, actor=actor, previous_number_id=number.id,
                 number_id=choice.number_id, reason=choice.reason)
    return choice


def new_number_text(org: Org, booking: Booking) -> str:
    """What the client reads from the new number."""
    when = format_datetime(booking.start_at, org.timezone)
    return (f"{org.name}: we have a new number for your {booking.service} booking on {when}. "
            "Please text us here from now on; the old number no longer reaches us.")


def move_open_threads(number_id: int, actor: str = "system") -> MoveResult:
    """Move every open thread off `number_id` (one transaction per thread); returns what happened."""
    number = db.session.get(MessageNumber, number_id)
    if number is None:
        raise NotFound("Number not found")
    result = MoveResult()
    thread_ids = [t.id for t in open_threads_on_number(number.id)]
    db.session.commit()  # end the read: each thread below is its own locked transaction
    for thread_id in thread_ids:
        booking_id = db.session.scalar(select(Thread.booking_id).where(Thread.id == thread_id))
        booking = lock_row(Booking, booking_id)
        thread = db.session.get(Thread, thread_id)
        if booking is None or thread is None or thread.message_number_id != number_id:
            db.session.commit()  # moved or gone meanwhile
            continue
        choice = move_thread_off_number(
            booking, thread, number, actor,
            stuck_text=f"Booking #{booking.id}'s conversation could not leave {national_format(number.e164)}: "
                       "add a pool or front-desk number, then move it again.")
        if choice is None:
            db.session.commit()
            result.stuck.append(thread.id)
            continue
        org = db.session.get(Org, booking.org_id)
        told = queue_outbound_message(org_id=booking.org_id, thread_id=thread.id, from_number_id=choice.number_id,
                                      to_e164=booking.client.phone_e164, body=new_number_text(org, booking),
                                      sender_kind="system")
        queued = told.status == "queued"  # read before the commit: the send job may run at once
        moved = (thread.id, choice.number_id)
        db.session.commit()
        result.moved.append(moved)
        result.told += queued
    return result
