"""Read-only queries behind the admin pages: paged lists and the home summary.

Every list is one COUNT plus one page of rows with its relations loaded in
the same statement (or one `selectin` batch), so a page costs the same number
of statements however many rows the org has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import joinedload

from app.clock import utcnow
from app.extensions import db
from app.localtime import local_date, local_day_bounds
from app.models import (
    Alert,
    AssignmentWindow,
    AutomationRun,
    AutomationTemplate,
    Booking,
    Client,
    EventLog,
    Message,
    MessageNumber,
    Payment,
    Sitter,
    Thread,
    User,
)

PER_PAGE = 25


@dataclass
class Page:
    """One page of a list and what the pager needs."""

    items: list
    page: int
    per_page: int
    total: int
    extra: dict = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(query: Select, page: int = 1, per_page: int | None = None) -> Page:
    """Two statements: the total and the requested page (clamped to what exists)."""
    per_page = per_page or PER_PAGE
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, min(page, max(1, -(-total // per_page))))
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items=items, page=page, per_page=per_page, total=total)


# --- home -------------------------------------------------------------------------

def home_summary(org_id: int, tz: str) -> dict:
    """Today at a glance for one org (each figure is one bounded query)."""
    now = utcnow()
    today = local_date(now, tz)
    day_start, day_end = local_day_bounds(today, tz)
    active_windows = list(db.session.scalars(
        select(AssignmentWindow)
        .options(joinedload(AssignmentWindow.sitter), joinedload(AssignmentWindow.booking))
        .join(Booking, Booking.id == AssignmentWindow.booking_id)
        .where(AssignmentWindow.org_id == org_id, AssignmentWindow.starts_at <= now,
               AssignmentWindow.ends_at > now, Booking.status == "confirmed")
        .order_by(AssignmentWindow.ends_at).limit(50)
    ).unique())
    bookings_today = list(db.session.scalars(
        select(Booking).where(Booking.org_id == org_id, Booking.start_at >= day_start,
                              Booking.start_at < day_end, Booking.status != "cancelled")
        .order_by(Booking.start_at).limit(50)
    ).unique())
    unread = db.session.scalar(
        select(func.count(Message.id)).where(Message.org_id == org_id, Message.owner_inbox.is_(True),
                                            Message.handled_at.is_(None))
    )
    failed_messages = list(db.session.scalars(
        select(Message).options(joinedload(Message.thread))
        .where(Message.org_id == org_id, Message.direction == "outbound",
               Message.status.in_(("failed", "undelivered")))
        .order_by(Message.created_at.desc()).limit(10)
    ).unique())
    without_number = list(db.session.scalars(
        select(Booking).outerjoin(Thread, Thread.booking_id == Booking.id)
        .where(Booking.org_id == org_id, Booking.status == "confirmed", Thread.id.is_(None),
               Booking.end_at > now)
        .order_by(Booking.start_at).limit(20)
    ).unique())
    upcoming_runs = list(db.session.scalars(
        select(AutomationRun)
        .where(AutomationRun.org_id == org_id, AutomationRun.status == "scheduled",
               AutomationRun.scheduled_for <= now + timedelta(hours=24))
        .order_by(AutomationRun.scheduled_for).limit(20)
    ).unique())
    alerts = list(db.session.scalars(
        select(Alert).where(Alert.org_id == org_id, Alert.audience == "owner", Alert.resolved_at.is_(None))
        .order_by(Alert.created_at.desc()).limit(20)
    ))
    return {"active_windows": active_windows, "bookings_today": bookings_today, "unread": unread or 0,
            "failed_messages": failed_messages, "without_number": without_number,
            "upcoming_runs": upcoming_runs, "alerts": alerts, "today": today}


# --- bookings ---------------------------------------------------------------------

@dataclass
class BookingFilters:
    date_from: date | None = None
    date_to: date | None = None
    status: str | None = None
    sitter_id: int | None = None
    client_id: int | None = None


def list_bookings(org_id: int, tz: str, filters: BookingFilters, page: int = 1) -> Page:
    query = select(Booking).where(Booking.org_id == org_id)
    if filters.date_from:
        query = query.where(Booking.start_at >= local_day_bounds(filters.date_from, tz)[0])
    if filters.date_to:
        query = query.where(Booking.start_at < local_day_bounds(filters.date_to, tz)[1])
    if filters.status:
        query = query.where(Booking.status == filters.status)
    if filters.sitter_id:
        query = query.where(Booking.sitter_id == filters.sitter_id)
    if filters.client_id:
        query = query.where(Booking.client_id == filters.client_id)
    return paginate(query.order_by(Booking.start_at.desc(), Booking.id.desc()), page)


def booking_details(booking: Booking) -> dict:
    """Everything the booking page shows besides the booking itself."""
    thread = db.session.scalar(
        select(Thread).options(joinedload(Thread.window)).where(Thread.booking_id == booking.id)
    )
    messages = []
    if thread is not None:
        messages = list(db.session.scalars(
            select(Message).where(Message.thread_id == thread.id).order_by(Message.created_at, Message.id)
        ))
    runs = list(db.session.scalars(
        select(AutomationRun).where(AutomationRun.booking_id == booking.id)
        .order_by(AutomationRun.scheduled_for)
    ).unique())
    payments = list(db.session.scalars(
        select(Payment).where(Payment.booking_id == booking.id).order_by(Payment.created_at)
    ))
    events = list(db.session.scalars(
        select(EventLog).where(events_of_booking(booking.id)).order_by(EventLog.created_at, EventLog.id)
    ))
    return {"thread": thread, "messages": messages, "runs": runs, "payments": payments, "events": events}


def choices_for_booking_form(org_id: int) -> tuple[list[Client], list[Sitter]]:
    clients = list(db.session.scalars(select(Client).where(Client.org_id == org_id).order_by(Client.name)))
    sitters = list(db.session.scalars(
        select(Sitter).where(Sitter.org_id == org_id, Sitter.active.is_(True)).order_by(Sitter.name)
    ))
    return clients, sitters


# --- people and numbers -----------------------------------------------------------

def list_clients(org_id: int, search: str | None = None, page: int = 1) -> Page:
    query = select(Client).where(Client.org_id == org_id)
    if search:
        query = query.where(_client_matches(search))
    return paginate(query.order_by(Client.name, Client.id), page)


def _client_matches(search: str):
    like = f"%{search.strip()}%"
    digits = "".join(ch for ch in search if ch.isdigit())
    conditions = [Client.name.ilike(like)]
    if digits:
        conditions.append(Client.phone_e164.like(f"%{digits}%"))
    return or_(*conditions)


def list_sitters(org_id: int, page: int = 1) -> Page:
    query = (select(Sitter).options(joinedload(Sitter.user)).where(Sitter.org_id == org_id)
             .order_by(Sitter.active.desc(), Sitter.name, Sitter.id))
    result = paginate(query, page)
    ids = [s.id for s in result.items]
    numbers = db.session.scalars(
        select(MessageNumber).where(MessageNumber.sitter_id.in_(ids), MessageNumber.kind == "sitter",
                                    MessageNumber.active.is_(True))
    ) if ids else []
    result.extra["numbers"] = {n.sitter_id: n for n in numbers}
    return result


def numbers_for_sitter(sitter_id: int) -> list[MessageNumber]:
    return list(db.session.scalars(
        select(MessageNumber).where(MessageNumber.sitter_id == sitter_id).order_by(MessageNumber.id)
    ))


def open_thread_condition(now: datetime):
    """An open thread: its booking is not cancelled and its window has not ended."""
    return and_(Booking.status.notin_(("cancelled", "completed")),
                or_(AssignmentWindow.id.is_(None), AssignmentWindow.ends_at > now))


def open_threads_on_number(number_id: int) -> list[Thread]:
    now = utcnow()
    return list(db.session.scalars(
        select(Thread).join(Booking, Booking.id == Thread.booking_id)
        .outerjoin(AssignmentWindow, AssignmentWindow.thread_id == Thread.id)
        .where(Thread.message_number_id == number_id, open_thread_condition(now))
        .order_by(Thread.id)
    ).unique())


def list_numbers(org_id: int, page: int = 1) -> Page:
    query = (select(MessageNumber).options(joinedload(MessageNumber.sitter))
             .where(MessageNumber.org_id == org_id)
             .order_by(MessageNumber.active.desc(), MessageNumber.kind, MessageNumber.id))
    result = paginate(query, page)
    ids = [n.id for n in result.items]
    open_counts: dict[int, int] = {}
    if ids:
        now = utcnow()
        rows = db.session.execute(
            select(Thread.message_number_id, func.count(Thread.id))
            .join(Booking, Booking.id == Thread.booking_id)
            .outerjoin(AssignmentWindow, AssignmentWindow.thread_id == Thread.id)
            .where(Thread.message_number_id.in_(ids), open_thread_condition(now))
            .group_by(Thread.message_number_id)
        )
        open_counts = dict(rows.all())
    result.extra["open_counts"] = open_counts
    return result


def list_users(org_id: int, page: int = 1) -> Page:
    query = select(User).where(User.org_id == org_id).order_by(User.active.desc(), User.role, User.name)
    return paginate(query, page)


# --- messages ---------------------------------------------------------------------

def list_owner_inbox(org_id: int, show_handled: bool = False, page: int = 1) -> Page:
    query = (select(Message).options(joinedload(Message.thread), joinedload(Message.message_number))
             .where(Message.org_id == org_id, Message.owner_inbox.is_(True)))
    if not show_handled:
        query = query.where(Message.handled_at.is_(None))
    result = paginate(query.order_by(Message.created_at.desc(), Message.id.desc()), page)
    result.extra["clients"] = _clients_by_phone(org_id, {m.from_e164 for m in result.items})
    return result


def _clients_by_phone(org_id: int, phones: set) -> dict[str, Client]:
    phones = {p for p in phones if p}
    if not phones:
        return {}
    rows = db.session.scalars(select(Client).where(Client.org_id == org_id, Client.phone_e164.in_(phones)))
    return {c.phone_e164: c for c in rows}


def list_threads(org_id: int, search: str | None = None, page: int = 1) -> Page:
    query = (select(Thread).options(joinedload(Thread.booking), joinedload(Thread.window))
             .join(Client, Client.id == Thread.client_id).where(Thread.org_id == org_id))
    if search:
        query = query.where(_client_matches(search))
    order = (Thread.last_message_at.is_(None), Thread.last_message_at.desc(), Thread.id.desc())
    return paginate(query.order_by(*order), page)


def thread_messages(thread_id: int) -> list[Message]:
    return list(db.session.scalars(
        select(Message).where(Message.thread_id == thread_id).order_by(Message.created_at, Message.id)
    ))


# --- automations and audit --------------------------------------------------------

def automation_overview(org_id: int) -> dict:
    now = utcnow()
    templates = {t.kind: t for t in db.session.scalars(
        select(AutomationTemplate).where(AutomationTemplate.org_id == org_id))}
    scheduled = list(db.session.scalars(
        select(AutomationRun).where(AutomationRun.org_id == org_id, AutomationRun.status == "scheduled")
        .order_by(AutomationRun.scheduled_for).limit(50)
    ).unique())
    failed = list(db.session.scalars(
        select(AutomationRun).where(AutomationRun.org_id == org_id, AutomationRun.status == "failed")
        .order_by(AutomationRun.updated_at.desc()).limit(50)
    ).unique())
    return {"templates": templates, "scheduled": scheduled, "failed": failed, "now": now}


def recent_bookings_for_preview(org_id: int, limit: int = 30) -> list[Booking]:
    return list(db.session.scalars(
        select(Booking).where(Booking.org_id == org_id).order_by(Booking.start_at.desc()).limit(limit)
    ).unique())


@dataclass
class AuditFilters:
    kind: str | None = None
    booking_id: int | None = None
    sitter_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    user_id: int | None = None  # the person who acted (an owner, staff member or sitter login)


def events_of_booking(booking_id: int):
    """The audit rows of one booking: those naming it, and those naming only its conversation
    (an office reply, a sitter's note to the office, a simulated text)."""
    return or_(EventLog.booking_id == booking_id,
               EventLog.thread_id.in_(select(Thread.id).where(Thread.booking_id == booking_id)))


def list_events(org_id: int, tz: str, filters: AuditFilters, page: int = 1) -> Page:
    query = select(EventLog).where(EventLog.org_id == org_id)
    if filters.kind:
        query = query.where(EventLog.kind.like(f"{filters.kind.strip()}%"))
    if filters.booking_id:
        query = query.where(events_of_booking(filters.booking_id))
    if filters.sitter_id:
        query = query.where(EventLog.sitter_id == filters.sitter_id)
    if filters.user_id:
        query = query.where(EventLog.actor == f"user:{filters.user_id}")
    if filters.date_from:
        query = query.where(EventLog.created_at >= local_day_bounds(filters.date_from, tz)[0])
    if filters.date_to:
        query = query.where(EventLog.created_at < local_day_bounds(filters.date_to, tz)[1])
    return paginate(query.order_by(EventLog.created_at.desc(), EventLog.id.desc()), page)


def audit_people(org_id: int) -> list[tuple[int, str]]:
    """The org's logins, for the audit log's person filter."""
    return [(u.id, f"{u.name} ({u.role})") for u in db.session.scalars(
        select(User).where(User.org_id == org_id).order_by(User.name, User.id))]


def event_kinds(org_id: int) -> list[str]:
    return list(db.session.scalars(
        select(EventLog.kind).where(EventLog.org_id == org_id).distinct().order_by(EventLog.kind)
    ))
