"""A visit's state for the calendar, the owner's Today page, the booking page and the sitter's
visit page: upcoming, due, late, in progress, done (read-only; one query per list)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from app.clock import utcnow
from app.errors import NotFound
from app.extensions import db
from app.models import Booking, Org, Sitter, Thread
from app.models.visits import VisitCheck, VisitReport, VisitReportReply
from app.privacy import redact_for_sitter
from app.services.visits.checklists import checklist_for
from app.services.visits.checks import CHECK_IN_LEAD, describe_distance, visit_span
from app.services.visits.exclusions import needing_new_sitter
from app.services.visits.replies import replies_to_report

VISIT_STATES = ("upcoming", "due", "late", "in_progress", "done")
STATE_LABELS = {"upcoming": "Upcoming", "due": "Due", "late": "Late", "in_progress": "In progress",
                "done": "Done"}


@dataclass(frozen=True)
class VisitState:
    state: str | None  # one of VISIT_STATES; None for a cancelled visit
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    # The owner marked this client and sitter "don't send again" and the visit is not over yet.
    needs_new_sitter: bool = False

    @property
    def label(self) -> str:
        return STATE_LABELS.get(self.state or "", "")


def state_of(booking: Booking, visit: VisitCheck | None, late_minutes: int, now: datetime) -> str | None:
    """done: checked out · in progress: checked in · late: not checked in `late_minutes` after the
    start · due: check-in is open (30 minutes before the start) · upcoming: before that."""
    if booking.status == "cancelled":
        return None
    if visit is not None and visit.checked_out_at is not None:
        return "done"
    if visit is not None and visit.checked_in_at is not None:
        return "in_progress"
    if now >= booking.start_at + timedelta(minutes=late_minutes):
        return "late"
    if now >= booking.start_at - CHECK_IN_LEAD:
        return "due"
    return "upcoming"


def visit_states(org: Org, bookings, now: datetime | None = None) -> dict[int, VisitState]:
    """Each booking's VisitState by id (one query for their check rows, one for the marked pairs)."""
    now = now or utcnow()
    bookings = list(bookings)
    ids = [b.id for b in bookings]
    checks = {v.booking_id: v for v in db.session.scalars(
        select(VisitCheck).where(VisitCheck.booking_id.in_(ids)))} if ids else {}
    flagged = needing_new_sitter(bookings, now)
    states = {}
    for booking in bookings:
        visit = checks.get(booking.id)
        states[booking.id] = VisitState(state_of(booking, visit, org.visit_late_minutes, now),
                                        visit.checked_in_at if visit else None,
                                        visit.checked_out_at if visit else None, booking.id in flagged)
    return states


@dataclass(frozen=True)
class OwnerVisit:
    """The booking page's "Visit" card."""

    state: VisitState
    check: VisitCheck | None
    report: VisitReport | None
    check_in_distance: str
    check_out_distance: str
    replies: list[VisitReportReply] = field(default_factory=list)  # the client's replies to the report


def owner_visit(booking: Booking, now: datetime | None = None) -> OwnerVisit:
    org = db.session.get(Org, booking.org_id)
    state = visit_states(org, [booking], now)[booking.id]
    check = db.session.scalar(select(VisitCheck).where(VisitCheck.booking_id == booking.id))
    report = db.session.scalar(select(VisitReport).where(VisitReport.booking_id == booking.id))
    return OwnerVisit(state, check, report, describe_distance(check.check_in_distance_m if check else None),
                      describe_distance(check.check_out_distance_m if check else None),
                      replies_to_report(report.id) if report else [])


@dataclass(frozen=True)
class SitterVisitPage:
    """The sitter's visit page: no client object or number; typed text redacted here."""

    booking_id: int
    thread_id: int | None
    client_first_name: str
    pets: str
    area: str
    service: str
    start_at: datetime
    end_at: datetime
    opens_at: datetime  # check-in allowed from
    closes_at: datetime  # and until (the window's end)
    status: str
    state: str | None
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    checklist: list[str]
    report_note: str
    report_checklist: list[str]
    report_sent: bool
    report_photos: int
    rendered_at: datetime
    on_the_way_texts: bool = False  # the org sends "on my way" / "arrived" texts
    on_the_way_at: datetime | None = None
    number_waiting: bool = False  # confirmed, but the conversation waits for a number (no thread page yet)

    @property
    def is_open(self) -> bool:
        return self.status == "confirmed" and self.opens_at <= self.rendered_at < self.closes_at

    @property
    def can_check_in(self) -> bool:
        return self.is_open and self.checked_in_at is None

    @property
    def can_report(self) -> bool:
        return self.checked_in_at is not None and self.status != "cancelled" and self.rendered_at < self.closes_at

    @property
    def can_say_on_my_way(self) -> bool:
        return (self.on_the_way_texts and not self.number_waiting and self.on_the_way_at is None
                and self.checked_in_at is None
                and self.status == "confirmed" and self.rendered_at < self.closes_at)

    @property
    def can_check_out(self) -> bool:
        return self.can_report and self.checked_out_at is None

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state or "", "Cancelled" if self.status == "cancelled" else "")


def sitter_visit_page(sitter_user_id: int, booking_id: int, now: datetime | None = None) -> SitterVisitPage:
    """The assigned sitter's view of one visit; anyone else gets NotFound (404)."""
    now = now or utcnow()
    sitter = db.session.scalar(select(Sitter).where(Sitter.user_id == sitter_user_id))
    booking = db.session.get(Booking, booking_id) if sitter is not None else None
    if booking is None or booking.org_id != sitter.org_id or booking.sitter_id != sitter.id \
            or booking.status == "pending":
        raise NotFound("We could not find that visit.")
    org = db.session.get(Org, booking.org_id)
    visit = db.session.scalar(select(VisitCheck).where(VisitCheck.booking_id == booking.id))
    report = db.session.scalar(select(VisitReport).where(VisitReport.booking_id == booking.id))
    thread = db.session.execute(select(Thread.id, Thread.message_number_id).where(
        Thread.booking_id == booking.id, Thread.scope == "client_booking")).first()
    waiting = thread is not None and thread.message_number_id is None and booking.status == "confirmed"
    thread_id = thread.id if thread is not None and not waiting else None
    opens, closes = visit_span(booking, org)
    client = booking.client
    return SitterVisitPage(
        booking_id=booking.id, thread_id=thread_id, client_first_name=redact_for_sitter(client.first_name),
        pets=redact_for_sitter(client.pet_names), area=redact_for_sitter(client.area or ""),
        service=redact_for_sitter(booking.service), start_at=booking.start_at, end_at=booking.end_at,
        opens_at=opens, closes_at=closes, status=booking.status,
        state=state_of(booking, visit, org.visit_late_minutes, now),
        checked_in_at=visit.checked_in_at if visit else None, checked_out_at=visit.checked_out_at if visit else None,
        checklist=checklist_for(org.id, booking.service),
        report_note=redact_for_sitter(report.note) if report else "",
        report_checklist=list(report.checklist) if report else [], report_sent=report is not None,
        report_photos=report.photo_count if report else 0, rendered_at=now,
        on_the_way_texts=org.visit_arrival_texts, on_the_way_at=visit.on_the_way_at if visit else None,
        number_waiting=waiting)


def sitter_booking_for_thread(sitter_user_id: int, thread_id: int) -> int:
    """The booking of a thread the sitter is assigned to (for the thread page's visit link)."""
    sitter = db.session.scalar(select(Sitter).where(Sitter.user_id == sitter_user_id))
    booking_id = db.session.scalar(
        select(Booking.id).join(Thread, Thread.booking_id == Booking.id)
        .where(Thread.id == thread_id, Booking.sitter_id == (sitter.id if sitter else -1),
               Booking.org_id == (sitter.org_id if sitter else -1)))
    if booking_id is None:
        raise NotFound("We could not find that visit.")
    return booking_id


def bookings_by_ids(org_id: int, ids) -> list[Booking]:
    ids = list(ids)
    if not ids:
        return []
    return list(db.session.scalars(select(Booking).where(Booking.org_id == org_id, Booking.id.in_(ids))).unique())
