"""Check-in and check-out: the assigned sitter, from 30 minutes before the visit's window to its end.

The window is the booking's assignment window (the visit's start to its end plus the org's
grace time; a booking confirmed without a number has the same times without a window row).
A position shared by the sitter's browser becomes a distance from the client's address
point (metres) here, and only the distance is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.clock import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.localtime import format_time
from app.models import AssignmentWindow, Booking, Org, Sitter, Thread
from app.models.visits import ClientAddressPoint, VisitCheck
from app.persistence.locking import claim_row, lock_row
from app.services.audit.events import record_event
from app.services.bookings.confirmed import window_times
from app.services.messaging.outbound import queue_outbound_message
from app.services.visits.alerts import resolve_visit_alerts

CHECK_IN_LEAD = timedelta(minutes=30)
ON_THE_WAY_LEAD = timedelta(minutes=90)  # before check-in opens: a drive across town
EARTH_RADIUS_M = 6_371_000
# A browser position this inaccurate says nothing about where the sitter is.
MAX_ACCURACY_M = 5_000


class CheckRefused(Conflict):
    """Outside the allowed span, not checked in yet, or the visit is cancelled: the text says why."""


@dataclass(frozen=True)
class CheckOutcome:
    booking_id: int
    at: datetime
    already: bool  # it had happened before: nothing changed
    distance_m: int | None
    notice: str


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float
    accuracy_m: float | None = None


def parse_position(latitude: str | None, longitude: str | None, accuracy: str | None = None) -> Position | None:
    """The form's optional position fields; None when absent, InvalidInput when malformed."""
    if not latitude and not longitude:
        return None
    try:
        lat, lng = float(latitude), float(longitude)
        acc = float(accuracy) if accuracy else None
    except (TypeError, ValueError):
        raise InvalidInput("That location could not be read; try again without sharing it.",
                           field="latitude") from None
    if not all(math.isfinite(v) for v in (lat, lng)) or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise InvalidInput("That location could not be read; try again without sharing it.", field="latitude")
    if acc is not None and (not math.isfinite(acc) or acc < 0):
        acc = None
    return Position(lat, lng, acc)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> int:
    """Great-circle distance in whole metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a))))


def describe_distance(meters: int | None) -> str:
    if meters is None:
        return ""
    if meters < 1000:
        return f"{meters} m from the address"
    return f"{meters / 1000:.1f} km from the address"


def _distance_from_address(client_id: int, position: Position | None) -> int | None:
    if position is None or (position.accuracy_m is not None and position.accuracy_m > MAX_ACCURACY_M):
        return None
    point = db.session.scalar(select(ClientAddressPoint).where(ClientAddressPoint.client_id == client_id))
    if point is None:
        return None
    return distance_m(point.latitude, point.longitude, position.latitude, position.longitude)


def visit_span(booking: Booking, org: Org) -> tuple[datetime, datetime]:
    """When check-in and check-out are allowed: 30 minutes before the window to its end."""
    window = db.session.scalar(select(AssignmentWindow).where(AssignmentWindow.booking_id == booking.id))
    starts_at, ends_at = (window.starts_at, window.ends_at) if window else window_times(booking, org)
    if window is not None and window.closed_reason:
        ends_at = window.ends_at  # closed early (cancelled): nothing after that
    return starts_at - CHECK_IN_LEAD, ends_at


def assigned_booking(sitter_user_id: int, booking_id: int) -> tuple[Booking, Sitter, Org]:
    """The booking, locked, when this sitter is its assigned sitter; NotFound for anyone else."""
    sitter = db.session.scalar(select(Sitter).where(Sitter.user_id == sitter_user_id))
    if sitter is None:
        raise NotFound("No sitter profile for this login.")
    booking = lock_row(Booking, booking_id)
    if booking is None or booking.org_id != sitter.org_id or booking.sitter_id != sitter.id:
        db.session.rollback()
        raise NotFound("We could not find that visit.")
    return booking, sitter, db.session.get(Org, booking.org_id)


def _refuse_unless_open(booking: Booking, org: Org, now: datetime, action: str) -> None:
    if booking.status == "cancelled":
        raise CheckRefused(f"This visit was cancelled; there is nothing to {action}.")
    if booking.status == "pending":
        raise CheckRefused(f"This visit is not confirmed yet; you can {action} once the office confirms it.")
    opens, closes = visit_span(booking, org)
    if now < opens:
        raise CheckRefused(f"Too early to {action}: it opens at {format_time(opens, org.timezone)}, "
                           f"30 minutes before the visit.")
    if now >= closes:
        raise CheckRefused(f"Too late to {action}: this visit's window ended at "
                           f"{format_time(closes, org.timezone)}. Tell the office what happened.")


def _visit_row(booking: Booking, sitter: Sitter) -> VisitCheck:
    return claim_row(VisitCheck, ("booking_id",), touch="booking_id", org_id=booking.org_id,
                     booking_id=booking.id, sitter_id=sitter.id, created_at=utcnow(), updated_at=utcnow())


def check_in(sitter_user_id: int, booking_id: int, position: Position | None = None) -> CheckOutcome:
    """Record the sitter's arrival (once); clears a late alert; may text the client "arrived"."""
    booking, sitter, org = assigned_booking(sitter_user_id, booking_id)
    now = utcnow()
    try:
        existing = db.session.scalar(select(VisitCheck).where(VisitCheck.booking_id == booking.id))
        if existing is not None and existing.checked_in_at is not None:
            db.session.commit()
            return CheckOutcome(booking.id, existing.checked_in_at, True, existing.check_in_distance_m,
                                f"Already checked in at {format_time(existing.checked_in_at, org.timezone)}.")
        _refuse_unless_open(booking, org, now, "check in")
    except CheckRefused:
        db.session.rollback()
        raise
    visit = _visit_row(booking, sitter)
    visit.sitter_id, visit.checked_in_at = sitter.id, now
    visit.check_in_distance_m = _distance_from_address(booking.client_id, position)
    record_event(org.id, "visit.checked_in", booking_id=booking.id, sitter_id=sitter.id,
                 actor=f"user:{sitter_user_id}", distance_m=visit.check_in_distance_m)
    resolve_visit_alerts(booking.id, ("visit.late",), now)
    texted = _text_arrival(booking, sitter, org)
    db.session.commit()
    notice = f"Checked in at {format_time(now, org.timezone)}."
    if visit.check_in_distance_m is not None:
        notice += f" You are {describe_distance(visit.check_in_distance_m)}."
    if texted:
        notice += f" {booking.client.first_name} is told you have arrived (queued to send)."
    return CheckOutcome(booking.id, now, False, visit.check_in_distance_m, notice)


def check_out(sitter_user_id: int, booking_id: int, position: Position | None = None) -> CheckOutcome:
    """Record the end of the visit (once, after a check-in); clears an unfinished alert."""
    booking, sitter, org = assigned_booking(sitter_user_id, booking_id)
    now = utcnow()
    visit = db.session.scalar(select(VisitCheck).where(VisitCheck.booking_id == booking.id))
    try:
        if visit is not None and visit.checked_out_at is not None:
            db.session.commit()
            return CheckOutcome(booking.id, visit.checked_out_at, True, visit.check_out_distance_m,
                                f"Already checked out at {format_time(visit.checked_out_at, org.timezone)}.")
        if visit is None or visit.checked_in_at is None:
            if booking.status == "cancelled":
                raise CheckRefused("This visit was cancelled; there is nothing to check out of.")
            raise CheckRefused("Check in first: you have not checked in to this visit.")
        if booking.status == "cancelled":
            raise CheckRefused("This visit was cancelled; there is nothing to check out of.")
        opens, closes = visit_span(booking, org)
        if now >= closes:
            raise CheckRefused(f"Too late to check out: this visit's window ended at "
                               f"{format_time(closes, org.timezone)}. Tell the office when you left.")
    except CheckRefused:
        db.session.rollback()
        raise
    visit.checked_out_at = now
    visit.check_out_distance_m = _distance_from_address(booking.client_id, position)
    record_event(org.id, "visit.checked_out", booking_id=booking.id, sitter_id=sitter.id,
                 actor=f"user:{sitter_user_id}", distance_m=visit.check_out_distance_m)
    resolve_visit_alerts(booking.id, ("visit.unfinished",), now)
    db.session.commit()
    return CheckOutcome(booking.id, now, False, visit.check_out_distance_m,
                        f"Checked out at {format_time(now, org.timezone)}. Thank you!")


def on_my_way(sitter_user_id: int, booking_id: int) -> CheckOutcome:
    """The org's optional "on my way" text to the client, once per visit, before the check-in."""
    booking, sitter, org = assigned_booking(sitter_user_id, booking_id)
    now = utcnow()
    visit = db.session.scalar(select(VisitCheck).where(VisitCheck.booking_id == booking.id))
    try:
        if not org.visit_arrival_texts:
            raise CheckRefused("The office has not turned on \"on my way\" texts.")
        if visit is not None and visit.on_the_way_at is not None:
            db.session.commit()
            return CheckOutcome(booking.id, visit.on_the_way_at, True, None,
                                f"{booking.client.first_name} was told at "
                                f"{format_time(visit.on_the_way_at, org.timezone)}.")
        if visit is not None and visit.checked_in_at is not None:
            raise CheckRefused("You have already checked in.")
        if booking.status != "confirmed":
            raise CheckRefused("This visit is not confirmed; nothing was sent.")
        opens, closes = visit_span(booking, org)
        if not opens - ON_THE_WAY_LEAD <= now < closes:
            raise CheckRefused(f"\"On my way\" opens at {format_time(opens - ON_THE_WAY_LEAD, org.timezone)}.")
    except CheckRefused:
        db.session.rollback()
        raise
    whose = _whose(booking)
    status = _text_client(booking, org, "visit.on_the_way_texted",
                          f"{sitter.first_name} from {org.name} is on the way to {whose} visit.")
    if status is None:
        db.session.rollback()
        raise CheckRefused("This visit has no conversation number yet; nothing was sent.")
    visit = _visit_row(booking, sitter)
    visit.on_the_way_at = now
    db.session.commit()
    first = booking.client.first_name
    notice = (f"Not delivered: {first} has opted out of texts." if status == "blocked"
              else f"{first} will be told you are on the way (queued to send).")
    return CheckOutcome(booking.id, now, False, None, notice)


def _whose(booking: Booking) -> str:
    pets = booking.client.pet_names
    return f"{pets}'s" if pets else "your"


def _text_client(booking: Booking, org: Org, event: str, body: str) -> str | None:
    """A text from the thread's number (conversation: it goes at once); its status, or None without one."""
    thread = db.session.scalar(select(Thread).where(Thread.booking_id == booking.id,
                                                    Thread.scope == "client_booking"))
    if thread is None or thread.message_number_id is None:
        return None
    message = queue_outbound_message(org_id=org.id, thread_id=thread.id, from_number_id=thread.message_number_id,
                                     to_e164=booking.client.phone_e164, body=body, sender_kind="system")
    record_event(org.id, event, booking_id=booking.id, thread_id=thread.id, message_id=message.id)
    return message.status


def _text_arrival(booking: Booking, sitter: Sitter, org: Org) -> bool:
    """The org's optional "arrived" text, from the thread's number."""
    if not org.visit_arrival_texts:
        return False
    body = f"{sitter.first_name} from {org.name} has arrived for {_whose(booking)} visit."
    return _text_client(booking, org, "visit.arrival_texted", body) == "queued"
