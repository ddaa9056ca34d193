"""What a sitter's phone shows: active windows, today's windows, alerts and one thread.

Every query here runs a fixed number of SQL statements whatever the data size
(joined/selectin eager loads and a correlated count per shown window for unread counts).
The results are plain view rows: no Client, Message or number objects reach
sitter templates, so a client's real number cannot be rendered by mistake. Every
field of a view row that a person typed (names, pets, area, service, bodies, alert
texts) is listed in the row's TYPED and passed through `redact_for_sitter` when the
row is made: one place, whichever template shows it.

A sitter reads a thread only up to its window's end: a client's text after that is
for owners (inbound routing files it in the owner inbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload

from app.clock import utcnow
from app.errors import NotFound
from app.extensions import db
from app.localtime import local_date, local_day_bounds
from app.models import Alert, AssignmentWindow, Booking, Message, Org, Sitter, Thread, ThreadRead
from app.privacy import redact_for_sitter
from app.services.bookings.windows import ComposeState, compose_state, describe_time_left
from app.services.messaging.sitter_messages import assigned_thread, assignment_conditions, sitter_for_user
from app.services.people.phones import national_format
from app.services.people.visit_address import sitter_address
from app.services.queries.schedule import UpcomingVisit, sitter_waiting_today

THREAD_MESSAGE_LIMIT = 200
ALERT_LIMIT = 30
FAILED_LOOKBACK = timedelta(days=7)
UNDELIVERED = ("failed", "undelivered", "blocked")


class SitterView:
    """A view row for sitter pages; its TYPED fields are redacted as the row is made."""

    TYPED: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in self.TYPED:
            object.__setattr__(self, name, redact_for_sitter(getattr(self, name)))


@dataclass(frozen=True)
class WindowCard(SitterView):
    TYPED = ("client_first_name", "pets", "area", "service")

    window_id: int
    thread_id: int
    client_first_name: str
    pets: str
    area: str
    service: str
    starts_at: datetime
    ends_at: datetime  # the visit's end
    texting_until: datetime  # the window's end: the visit's end plus the org's grace time
    booking_status: str
    is_open: bool
    is_past: bool
    time_left: str
    unread: int
    address: str = ""  # only from the lead time before the window to its end (visit_address)


@dataclass(frozen=True)
class AlertItem(SitterView):
    TYPED = ("title", "text")

    alert_id: int | None  # None: a failed delivery read from the message itself
    kind: str
    title: str
    text: str
    created_at: datetime
    thread_id: int | None


@dataclass(frozen=True)
class MessageItem(SitterView):
    TYPED = ("sender_label", "body")

    message_id: int
    sender_label: str
    body: str
    created_at: datetime
    direction: str
    mine: bool
    status_label: str


@dataclass(frozen=True)
class ThreadPage(SitterView):
    TYPED = ("client_first_name", "pets", "area", "service")

    thread_id: int
    client_first_name: str
    pets: str
    area: str
    service: str
    masking_number: str  # ours, not the client's: safe to show
    starts_at: datetime
    ends_at: datetime
    compose: ComposeState
    messages: list[MessageItem]
    client_opted_out: bool
    texting_until: datetime | None = None  # the window's end
    rendered_at: datetime | None = None  # the server's now: the page counts down from it
    address: str = ""  # only from the lead time before the window to its end (visit_address)

    @property
    def latest_message_id(self) -> int:
        return max((m.message_id for m in self.messages), default=0)

    def seconds_until(self, moment: datetime | None) -> int | None:
        return None if moment is None else int((moment - self.rendered_at).total_seconds())


def _unread_count(user_id: int):
    """Inbound messages of the window's thread newer than this user's read mark.

    Correlated per window row (index ix_messages_thread_created), so the cost follows
    the windows shown, not every thread the sitter ever had. Needs ThreadRead outer-joined
    on (thread, user) in the enclosing query.
    """
    return (
        select(func.count(Message.id))
        .where(
            Message.thread_id == AssignmentWindow.thread_id,
            Message.direction == "inbound",
            Message.created_at < AssignmentWindow.ends_at,  # later texts are for owners
            or_(ThreadRead.read_at.is_(None), Message.created_at > ThreadRead.read_at),
        )
        .correlate(AssignmentWindow, ThreadRead)
        .scalar_subquery()
    )


def _window_cards(
    user_id: int, sitter: Sitter, now: datetime, *window_conditions, booking_condition=None
) -> list[WindowCard]:
    # Two statements on purpose: the window ids first (index ix_windows_sitter_ends), then
    # the cards for exactly those ids. In one query PostgreSQL over-estimates the windows
    # (it cannot know ends_at follows starts_at) and hash-joins every booking of the org.
    window_ids = db.session.scalars(
        select(AssignmentWindow.id).where(
            AssignmentWindow.sitter_id == sitter.id,
            AssignmentWindow.org_id == sitter.org_id,
            *window_conditions,
        )
    ).all()
    rows = db.session.execute(
        select(AssignmentWindow, _unread_count(user_id))
        .join(Booking, Booking.id == AssignmentWindow.booking_id)
        .outerjoin(ThreadRead, (ThreadRead.thread_id == AssignmentWindow.thread_id) & (ThreadRead.user_id == user_id))
        .where(AssignmentWindow.id.in_(window_ids), *([booking_condition] if booking_condition is not None else []))
        .order_by(AssignmentWindow.starts_at, AssignmentWindow.id)
        .options(joinedload(AssignmentWindow.booking))
    ).all()
    cards = []
    org = db.session.get(Org, sitter.org_id) if rows else None
    for window, unread_count in rows:
        booking, client = window.booking, window.booking.client
        is_open = booking.status == "confirmed" and window.starts_at <= now < window.ends_at
        cards.append(
            WindowCard(
                window_id=window.id,
                thread_id=window.thread_id,
                client_first_name=client.first_name,
                pets=client.pet_names,
                area=client.area or "",
                service=booking.service,
                starts_at=booking.start_at,
                ends_at=booking.end_at,
                texting_until=window.ends_at,
                booking_status=booking.status,
                is_open=is_open,
                is_past=window.ends_at <= now or booking.status == "cancelled",
                time_left=describe_time_left(window.ends_at, now) if is_open else "",
                unread=int(unread_count),
                address=sitter_address(window, booking, org, sitter.id, now) if org is not None else "",
            )
        )
    return cards


def active_now(user_id: int, now: datetime | None = None, sitter: Sitter | None = None) -> list[WindowCard]:
    """Windows open at this moment for this sitter's confirmed bookings."""
    now = now or utcnow()
    sitter = sitter or sitter_for_user(user_id)
    return _window_cards(
        user_id,
        sitter,
        now,
        AssignmentWindow.starts_at <= now,
        AssignmentWindow.ends_at > now,
        booking_condition=Booking.status == "confirmed",
    )


def today(user_id: int, org: Org, now: datetime | None = None, sitter: Sitter | None = None) -> list[WindowCard]:
    """Every window of this sitter that touches today in org time (past ones marked)."""
    now = now or utcnow()
    sitter = sitter or sitter_for_user(user_id)
    start, end = local_day_bounds(local_date(now, org.timezone), org.timezone)
    return _window_cards(user_id, sitter, now, AssignmentWindow.starts_at < end, AssignmentWindow.ends_at > start)


_ALERT_TITLES = {
    "message.blocked_outside_window": "Not sent: outside the visit window",
    "policy.violation": "Content policy",
    "message.failed": "Not delivered",
    "office.reply": "The office answered",
}
# Alerts that have done their job once the sitter has read them (a refused send: the words are
# kept in the compose and can go to the office instead); they do not pile up.
CLEARED_WHEN_SEEN = ("message.blocked_outside_window",)


@dataclass(frozen=True)
class Visits:
    """Active now, Today and today's visits waiting for a number, read at one moment so they always
    agree (a visit leaves Waiting for Today in the same poll that its number arrives)."""

    active: list[WindowCard]
    today: list[WindowCard]
    waiting: list[UpcomingVisit]

    @property
    def unread(self) -> int:
        """Unread client texts across the shown visits (a thread counted once)."""
        return sum({card.thread_id: card.unread for card in (*self.active, *self.today)}.values())


@dataclass(frozen=True)
class Dashboard:
    visits: Visits
    alerts: list[AlertItem]


def visits(user_id: int, org: Org, now: datetime | None = None, sitter: Sitter | None = None) -> Visits:
    """The dashboard's polled part: its three lists from one sitter lookup and one `now`."""
    now = now or utcnow()
    sitter = sitter or sitter_for_user(user_id)
    return Visits(active=active_now(user_id, now, sitter), today=today(user_id, org, now, sitter),
                  waiting=sitter_waiting_today(user_id, now, sitter))


def dashboard(user_id: int, org: Org, now: datetime | None = None, sitter: Sitter | None = None) -> Dashboard:
    """The whole /sitter page: its polled visits and the alerts, from one sitter lookup."""
    now = now or utcnow()
    sitter = sitter or sitter_for_user(user_id)
    return Dashboard(visits=visits(user_id, org, now, sitter), alerts=alerts(user_id, now, sitter))


def _delivery_problem(message: Message) -> str:
    if message.status == "blocked" and message.error_code == "opted_out":
        return "The client has opted out of texts (replied STOP); this message was not sent."
    if message.status == "blocked":
        return "This message was not sent."
    return "The carrier could not deliver this message. The office can see the details."


def alerts(user_id: int, now: datetime | None = None, sitter: Sitter | None = None) -> list[AlertItem]:
    """This sitter's open alerts plus their own recent texts that did not get through."""
    now = now or utcnow()
    sitter = sitter or sitter_for_user(user_id)
    rows = db.session.scalars(
        select(Alert)
        .where(
            Alert.audience == "sitter",
            Alert.sitter_id == sitter.id,
            Alert.resolved_at.is_(None),
            Alert.org_id == sitter.org_id,
        )
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(ALERT_LIMIT)
    ).all()
    items = [
        AlertItem(
            alert_id=a.id,
            kind=a.kind,
            title=_ALERT_TITLES.get(a.kind, "Alert"),
            text=a.text,
            created_at=a.created_at,
            thread_id=a.thread_id,
        )
        for a in rows
    ]
    failed = db.session.scalars(
        select(Message)
        .where(
            Message.sender_user_id == user_id,
            Message.sender_kind == "sitter",
            Message.org_id == sitter.org_id,
            Message.status.in_(UNDELIVERED),
            Message.created_at > now - FAILED_LOOKBACK,
            # a policy block already has its own alert; opted-out and carrier failures do not
            ~Message.id.in_(
                select(Alert.message_id).where(Alert.sitter_id == sitter.id, Alert.message_id.is_not(None))
            ),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(ALERT_LIMIT)
        .options(joinedload(Message.thread))
    ).all()
    for message in failed:
        first_name = message.thread.client.first_name if message.thread else "the client"
        items.append(
            AlertItem(
                alert_id=None,
                kind="message.failed",
                title=f"Not delivered to {first_name}",
                text=f"“{_excerpt(message.body)}” {_delivery_problem(message)}",
                created_at=message.created_at,
                thread_id=message.thread_id,
            )
        )
    items.sort(key=lambda item: item.created_at, reverse=True)
    return items


def _excerpt(body: str, limit: int = 80) -> str:
    text = redact_for_sitter(body)  # before cutting: a cut number would escape the redaction
    return text if len(text) <= limit else text[: limit - 1] + "…"


_STATUS_LABELS = {
    "queued": "Queued",
    "sending": "Sending…",
    "unknown": "Not confirmed",
    "sent": "Sent",
    "delivered": "Delivered",
    "failed": "Not delivered",
    "undelivered": "Not delivered",
    "blocked": "Not sent",
}


def _sender_label(message: Message, user_id: int, client_first_name: str, business: str) -> str:
    if message.direction == "inbound":
        return client_first_name
    if message.sender_kind == "sitter":
        return "You" if message.sender_user_id == user_id else "Another sitter"
    if message.sender_kind == "automation":
        return "Automation"
    return business


IN_FLIGHT = ("queued", "sending", "unknown")  # statuses about to move on
IN_FLIGHT_LOOKBACK = timedelta(hours=1)


def _in_flight(user_id: int, now: datetime):
    """SQL: this user's recent texts still on their way (their status is about to change)."""
    return ((Message.sender_user_id == user_id) & Message.status.in_(IN_FLIGHT)
            & (Message.created_at > now - IN_FLIGHT_LOOKBACK))


def thread_messages(user_id: int, thread: Thread, org: Org, until: datetime, after_id: int | None = None,
                    now: datetime | None = None) -> list[MessageItem]:
    """The latest messages before `until` (the window's end), oldest first, bodies redacted.

    after_id: only what a page holding messages up to that id lacks: newer messages, and
    this user's recent texts still on their way (their status is about to change).
    """
    query = select(Message).where(Message.thread_id == thread.id, Message.org_id == org.id,
                                  Message.created_at < until)
    if after_id is not None:
        query = query.where((Message.id > after_id) | _in_flight(user_id, now or utcnow()))
    rows = db.session.scalars(
        query.order_by(Message.created_at.desc(), Message.id.desc()).limit(THREAD_MESSAGE_LIMIT)
    ).all()
    first_name = thread.client.first_name
    items = []
    for message in reversed(rows):
        mine = message.direction == "outbound" and message.sender_user_id == user_id
        items.append(
            MessageItem(
                message_id=message.id,
                sender_label=_sender_label(message, user_id, first_name, org.name),
                body=message.body,
                created_at=message.created_at,
                direction=message.direction,
                mine=mine,
                status_label=_STATUS_LABELS.get(message.status, "") if message.direction == "outbound" else "",
            )
        )
    return items


def thread_page(user_id: int, thread_id: int, now: datetime | None = None) -> ThreadPage:
    """One assigned thread for the sitter (NotFound when it is not theirs)."""
    now = now or utcnow()
    found = assigned_thread(user_id, thread_id)
    window, thread, booking = found.window, found.thread, found.window.booking
    client = thread.client
    return ThreadPage(
        thread_id=thread.id,
        client_first_name=client.first_name,
        pets=client.pet_names,
        area=client.area or "",
        service=booking.service,
        masking_number=national_format(thread.message_number.e164),
        starts_at=booking.start_at,
        ends_at=booking.end_at,
        compose=compose_state(window, booking, found.org, now, sitter_id=found.sitter.id),
        messages=thread_messages(user_id, thread, found.org, until=window.ends_at, now=now),
        client_opted_out=client.opted_out,
        texting_until=window.ends_at,
        rendered_at=now,
        address=sitter_address(window, booking, found.org, found.sitter.id, now),
    )


@dataclass(frozen=True)
class ThreadUpdate:
    thread_id: int
    messages: list[MessageItem]
    latest_id: int | None  # the newest message id the page will hold


def thread_update(user_id: int, thread_id: int, after_id: int, now: datetime | None = None) -> ThreadUpdate:
    """What changed in one assigned thread since the page's newest message (NotFound if not theirs).

    The usual answer is "nothing": then it costs two lean statements (is it theirs, anything
    new), and the thread, client and org are loaded only when there are rows to label.
    """
    now = now or utcnow()
    assigned = db.session.execute(
        select(Sitter.org_id, AssignmentWindow.ends_at)
        .select_from(AssignmentWindow)
        .join(Thread, Thread.id == AssignmentWindow.thread_id)
        .join(Sitter, Sitter.id == AssignmentWindow.sitter_id)
        .where(Sitter.user_id == user_id, *assignment_conditions(thread_id, Sitter.id, Sitter.org_id))
    ).first()
    if assigned is None:
        raise NotFound("We could not find that conversation.")
    org_id, until = assigned
    fresh = select(Message.id).where(Message.thread_id == thread_id, Message.org_id == org_id,
                                     Message.created_at < until,
                                     (Message.id > after_id) | _in_flight(user_id, now)).limit(1)
    if db.session.scalar(fresh) is None:
        return ThreadUpdate(thread_id, [], None)
    found = assigned_thread(user_id, thread_id)
    items = thread_messages(user_id, found.thread, found.org, until=found.window.ends_at, after_id=after_id,
                            now=now)
    latest = max((item.message_id for item in items), default=None)
    return ThreadUpdate(found.thread.id, items, latest)


def thread_compose_state(user_id: int, thread_id: int, now: datetime | None = None) -> ComposeState:
    found = assigned_thread(user_id, thread_id)
    return compose_state(found.window, found.window.booking, found.org, now or utcnow(), sitter_id=found.sitter.id)


def dismiss_alert(user_id: int, alert_id: int) -> None:
    """A sitter clears one of their own alerts; any other alert id is NotFound."""
    sitter = sitter_for_user(user_id)
    alert = db.session.scalar(
        select(Alert).where(Alert.id == alert_id, Alert.sitter_id == sitter.id, Alert.org_id == sitter.org_id)
    )
    if alert is None:
        raise NotFound("We could not find that alert.")
    if alert.resolved_at is None:
        alert.resolved_at = utcnow()
    db.session.commit()


def mark_alerts_seen(user_id: int, items: list[AlertItem]) -> int:
    """The sitter has just been shown these: the ones that clear when seen are resolved."""
    ids = [item.alert_id for item in items if item.alert_id is not None and item.kind in CLEARED_WHEN_SEEN]
    if not ids:
        return 0
    sitter = sitter_for_user(user_id)
    result = db.session.execute(
        update(Alert).where(Alert.id.in_(ids), Alert.sitter_id == sitter.id, Alert.org_id == sitter.org_id,
                            Alert.resolved_at.is_(None)).values(resolved_at=utcnow()))
    db.session.commit()
    return result.rowcount
