"""Telling people without a page open: Web Push to their devices, or an SMS ping to a sitter.

Each thing to tell one person is a `Notification` row first (the database is the truth),
planned idempotently by `dedupe_key`, then delivered once by claiming it
(pending → sending). Payloads name the client's first name and pets, never a number
and never the text itself: a lock screen is not a private place.

Events that notify (each enqueues a job by id after its transaction commits):
- a client's text delivered into the sitter's open window → the sitter (`client_text`);
  a text filed in the owner inbox → owners and staff whose device opted in (`inbox_item`);
- a visit added, changed, reassigned or cancelled → the sitter(s) concerned;
- a window opening in ten minutes → its sitter (a job scheduled at the window's start
  minus ten minutes, and the periodic scan in case Redis lost that job);
- a visit late or unfinished, a client's reply that sounds like a concern, a sitter marked not
  to be sent to a client who still has visits with them → owners and staff whose device opted
  in (`office_user_ids`; app.services.visits).

What goes to owners and staff (a notification that opens an /admin page) reaches only the
devices they opted in for the office's news: that is their setting.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app.adapters.webpush import endpoint_refusal, push_configured, send_web_push
from app.clock import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.jobs.queue import enqueue
from app.jobs.specs import JOBS
from app.localtime import format_datetime, format_time
from app.models import (
    AssignmentWindow,
    Booking,
    EventLog,
    Message,
    Notification,
    NotificationSettings,
    PushSubscription,
    Sitter,
    Thread,
    User,
)
from app.observability.metrics import count_notification, count_push
from app.persistence.locking import insert_if_absent, lock_row
from app.privacy import redact_for_sitter
from app.services.accounts.sessions import all_sessions_ended
from app.services.numbers.choice import front_desk_number_id, front_desk_number_select

log = logging.getLogger(__name__)

OPENING_LEAD = timedelta(minutes=10)
SMS_PING_INTERVAL = timedelta(minutes=10)
# Pending rows the job did not deliver (Redis lost it) are retried by the periodic step
# while they still matter; older ones are given up, with the reason kept.
REDELIVER_AFTER = timedelta(minutes=1)
GIVE_UP_AFTER = timedelta(minutes=30)
# How long a push service keeps a notification for a phone that is off (seconds), and how hard it
# wakes the phone (RFC 8030 Urgency). A client's text in the window is kept until the window ends
# (after that the sitter cannot answer it) and replaced by the thread's next text (`_push_policy`).
TTL_BY_KIND = {"client_text": 3600, "window_opening": 600, "inbox_item": 3600, "office_reply": 6 * 3600,
               "visit_late": 3600, "visit_unfinished": 3600, "visit_concern": 6 * 3600,
               "new_sitter_needed": 24 * 3600}
DEFAULT_TTL = 6 * 3600
HIGH_URGENCY = ("client_text", "window_opening", "visit_late", "office_reply", "visit_concern")
# Devices one person may register: enough for every phone, tablet and browser they use.
MAX_SUBSCRIPTIONS_PER_USER = 10
# One delivery's budget across all of a person's devices (its job's timeout is 45 s).
PUSH_DELIVERY_SECONDS = 25
VISIT_CHANGES = {
    "added": "visit_added",
    "changed": "visit_changed",
    "removed": "visit_removed",
    "cancelled": "visit_cancelled",
}


# ---------------------------------------------------------------- subscriptions and settings


def _org_user(principal) -> User:
    """Services that serve one person's org data take that `User`: an operator (or an id) is nobody here."""
    if not isinstance(principal, User):
        raise NotFound("There is no such account here.")
    return principal


def _clean(value, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > limit or any(ord(ch) < 32 for ch in text):
        raise InvalidInput("That is not a push subscription this browser can use.", field="subscription")
    return text


def save_push_subscription(user: User, data: dict, *, device: str = "", inbox_items: bool = False) -> int:
    """Store (or refresh) one browser's PushSubscription JSON for this org user; returns its id.

    The endpoint is unique: the same browser subscribing again (or after another user of the
    same org logged in on it) moves the row to this user rather than notifying both. An
    endpoint another org's user holds is a Conflict (409), never moved across orgs; a user
    keeps at most MAX_SUBSCRIPTIONS_PER_USER devices.
    """
    user = _org_user(user)
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise InvalidInput("That is not a push subscription this browser can use.", field="subscription")
    endpoint = _clean(data.get("endpoint"), 1000)
    p256dh, auth = _clean(data["keys"].get("p256dh"), 200), _clean(data["keys"].get("auth"), 100)
    refusal = endpoint_refusal(endpoint, allow_loopback=current_app.config.get("PUSH_ALLOW_LOOPBACK", False),
                               extra_hosts=current_app.config.get("PUSH_SERVICE_HOSTS", ()))
    if refusal:
        raise InvalidInput(f"Push notifications need a public https push service we know ({refusal}).",
                           field="subscription")
    inbox_items = bool(inbox_items) and user.is_owner_side
    # Every org's rows: the endpoint is unique across orgs, and org scoping would hide a clash.
    row = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint)
                            .execution_options(all_orgs=True))
    if row is not None and row.org_id != user.org_id:
        raise Conflict("This browser already gets another account's notifications. Turn them off there first.")
    if row is None or row.user_id != user.id:
        devices = db.session.scalar(select(func.count(PushSubscription.id))
                                    .where(PushSubscription.user_id == user.id))
        if (devices or 0) >= MAX_SUBSCRIPTIONS_PER_USER:
            raise Conflict(f"You already get notifications on {MAX_SUBSCRIPTIONS_PER_USER} devices. "
                           "Turn them off on one you no longer use first.")
    if row is None:
        row = PushSubscription(endpoint=endpoint)
        db.session.add(row)
    row.org_id, row.user_id, row.p256dh, row.auth = user.org_id, user.id, p256dh, auth
    row.device, row.inbox_items = (device or "")[:120], inbox_items
    try:
        db.session.commit()
    except IntegrityError:
        # The same endpoint saved at the same moment by another request: one row wins.
        db.session.rollback()
        raise Conflict("This browser's subscription was just saved by another request. Try again.") from None
    return row.id


def delete_push_subscription(user: User, endpoint: str) -> bool:
    """This browser stops receiving this user's notifications."""
    user = _org_user(user)
    result = db.session.execute(
        delete(PushSubscription).where(PushSubscription.user_id == user.id, PushSubscription.endpoint == endpoint)
    )
    db.session.commit()
    return bool(result.rowcount)


def delete_push_subscriptions(user_id: int, *, commit: bool = True) -> int:
    """Every device of this user stops receiving notifications (logout everywhere)."""
    result = db.session.execute(delete(PushSubscription).where(PushSubscription.user_id == user_id))
    if commit:
        db.session.commit()
    return result.rowcount


@all_sessions_ended.connect
def _forget_devices_when_all_sessions_end(sender, *, user_id: int, reason: str, **extra) -> None:
    """Log out everywhere, a password reset, deactivation: no device keeps getting this person's news."""
    removed = delete_push_subscriptions(user_id)
    if removed:
        log.info("user %s: %d push device(s) forgotten (%s)", user_id, removed, reason)


@dataclass(frozen=True)
class NotificationChoices:
    push_available: bool  # the server has VAPID keys
    devices: int
    sms_ping: bool
    sms_ping_possible: bool  # a phone on file and a front-desk number to send from
    phone_hint: str  # '•••0101': whose phone the ping goes to, masked


def notification_choices(user: User) -> NotificationChoices:
    """What this person has on and could turn on, in one statement (the sitter dashboard shows
    its card from it on every load)."""
    from app.privacy import mask_phone

    user = _org_user(user)
    user_id = user.id
    devices, sms_ping, desk_id, phone = db.session.execute(select(
        select(func.count(PushSubscription.id)).where(PushSubscription.user_id == user_id).scalar_subquery(),
        select(NotificationSettings.sms_ping).where(NotificationSettings.user_id == user_id).scalar_subquery(),
        front_desk_number_select(user.org_id).scalar_subquery(),
        select(Sitter.phone_e164).where(Sitter.user_id == user_id).scalar_subquery(),
    )).one()
    possible = bool(phone) and desk_id is not None
    return NotificationChoices(push_configured(), int(devices or 0), bool(sms_ping),
                               possible, mask_phone(phone))


def set_sms_ping(user: User, enabled: bool) -> None:
    """A sitter turns the SMS ping to their own phone on or off."""
    user = _org_user(user)
    user_id = user.id
    if enabled:
        sitter = db.session.scalar(select(Sitter).where(Sitter.user_id == user_id))
        if sitter is None or not sitter.phone_e164:
            raise InvalidInput("There is no phone number on file for you: ask the office to add it.", field="sms_ping")
        if front_desk_number_id(user.org_id) is None:
            raise InvalidInput("The business has no front-desk number to send pings from yet.", field="sms_ping")
    settings = db.session.get(NotificationSettings, user_id)
    if settings is None:
        settings = NotificationSettings(user_id=user_id, org_id=user.org_id)
        db.session.add(settings)
    settings.sms_ping = bool(enabled)
    db.session.commit()


# ---------------------------------------------------------------- planning


def push_name(first_name: str, pets: str) -> str:
    """'Alex (Biscuit)', redacted of any phone number or e-mail: names and pet names are typed by people."""
    who = redact_for_sitter(first_name) or "A client"
    return f"{who} ({redact_for_sitter(pets)})" if pets else who


def plan_notification(org_id: int, user_id: int, kind: str, key: str, title: str, body: str, url: str, *,
                      thread_id: int | None = None, booking_id: int | None = None) -> int | None:
    """One Notification row unless this key was planned before; returns the new id or None."""
    return insert_if_absent(Notification, ("dedupe_key",), org_id=org_id, user_id=user_id, kind=kind,
                            dedupe_key=key[:120], title=title[:120], body=body[:240], url=url[:300],
                            thread_id=thread_id, booking_id=booking_id, status="pending", channel="none",
                            devices=0, created_at=utcnow())


def _deliver_all(ids: list[int | None]) -> int:
    """Commit the planned rows, then one delivery job each on the `push` queue."""
    db.session.commit()
    created = [i for i in ids if i is not None]
    for notification_id in created:
        enqueue(JOBS.deliver_notification, notification_id)
    return len(created)


def _sitter_user_id(sitter_id: int | None) -> int | None:
    if sitter_id is None:
        return None
    return db.session.scalar(select(Sitter.user_id).where(Sitter.id == sitter_id, Sitter.active.is_(True)))


def notify_client_text(message_id: int) -> int:
    """A client's text: its sitter when it landed in their open window; owners for the inbox."""
    message = db.session.get(Message, message_id)
    if message is None or message.direction != "inbound":
        return 0
    planned: list[int | None] = []
    thread = db.session.get(Thread, message.thread_id) if message.thread_id else None
    if thread is not None and thread.booking_id is not None and not message.owner_inbox:
        window = db.session.scalar(select(AssignmentWindow).where(AssignmentWindow.thread_id == thread.id))
        booking = window.booking if window else None
        # Delivered to the sitter: the window was open for a confirmed booking when it arrived.
        if booking is not None and booking.status == "confirmed" and window.is_open_at(message.created_at):
            user_id = _sitter_user_id(window.sitter_id)
            if user_id is not None:
                client = thread.client
                planned.append(plan_notification(
                    message.org_id, user_id, "client_text", f"text:{message.id}:{user_id}",
                    f"New message from {push_name(client.first_name, client.pet_names)}",
                    "Tap to open the conversation.",
                    f"/sitter/threads/{thread.id}", thread_id=thread.id, booking_id=booking.id))
    if message.owner_inbox:
        planned.extend(_plan_inbox_item(message, thread))
    return _deliver_all(planned)


def office_user_ids(org_id: int, *, except_sitter_id: int | None = None) -> list[int]:
    """Active owners and staff with a device opted in for the office's news (their setting); an
    owner or staff login that is `except_sitter_id`'s own is left out (nobody is told of a mark on
    themselves)."""
    query = select(User.id).where(
        User.org_id == org_id, User.role.in_(("owner", "staff")), User.active.is_(True),
        select(PushSubscription.id).where(PushSubscription.user_id == User.id,
                                          PushSubscription.inbox_items.is_(True)).exists())
    if except_sitter_id is not None:
        query = query.where(~select(Sitter.id).where(Sitter.id == except_sitter_id, Sitter.user_id == User.id).exists())
    return list(db.session.scalars(query.order_by(User.id)))


def plan_office_news(org_id: int, kind: str, key: str, title: str, body: str, url: str, *,
                     thread_id: int | None = None, booking_id: int | None = None,
                     except_sitter_id: int | None = None) -> list[int]:
    """One row per owner or staff member who wants the office's news (`key` + their id: once
    each); in the caller's transaction. Returns the new rows' ids for the caller to deliver."""
    planned = [plan_notification(org_id, user_id, kind, f"{key}:{user_id}", title, body, url, thread_id=thread_id,
                                 booking_id=booking_id)
               for user_id in office_user_ids(org_id, except_sitter_id=except_sitter_id)]
    return [i for i in planned if i is not None]


def queue_deliveries(notification_ids: list[int]) -> None:
    """One delivery job each, handed over when the caller's transaction commits."""
    for notification_id in notification_ids:
        enqueue(JOBS.deliver_notification, notification_id)


def _plan_inbox_item(message: Message, thread: Thread | None) -> list[int]:
    who = push_name(thread.client.first_name, thread.client.pet_names) if thread is not None else "an unknown sender"
    return plan_office_news(message.org_id, "inbox_item", f"inbox:{message.id}", "New in the inbox",
                            f"A text from {who}.", "/admin/inbox", thread_id=message.thread_id)


def queue_visit_notification(booking_id: int, change: str, sitter_id: int | None) -> None:
    """Called inside a booking service's transaction: the job runs after it commits."""
    if sitter_id is not None:
        enqueue(JOBS.notify_visit_change, booking_id, change, sitter_id)


def queue_window_notifications(booking_id: int, previous_sitter_id: int | None, sitter_id: int | None, *,
                               times_changed: bool) -> None:
    """A window moved to another sitter (removed for one, added for the other) or to new times."""
    if previous_sitter_id != sitter_id:
        queue_visit_notification(booking_id, "removed", previous_sitter_id)
        queue_visit_notification(booking_id, "added", sitter_id)
    elif times_changed:
        queue_visit_notification(booking_id, "changed", sitter_id)


def _visit_text(booking: Booking, change: str, tz: str, now: datetime) -> tuple[str, str]:
    client = booking.client
    who = push_name(client.first_name, client.pet_names)
    when = f"{format_datetime(booking.start_at, tz)}–{format_time(booking.end_at, tz)}"
    return {
        "added": (f"New visit: {who}", f"{when} · {redact_for_sitter(booking.service)}"),
        "changed": (f"Visit changed: {who}", f"Now {when}"),
        "removed": (f"Visit reassigned: {who}", f"{when} is now with another sitter."),
        "cancelled": (f"Visit cancelled: {who}", f"{when} is cancelled."),
    }[change]


def notify_visit_change(booking_id: int, change: str, sitter_id: int) -> int:
    """A visit added to, changed for, taken from or cancelled for one sitter."""
    booking = db.session.get(Booking, booking_id)
    user_id = _sitter_user_id(sitter_id)
    if booking is None or user_id is None or change not in VISIT_CHANGES:
        return 0
    org, now = booking.org, utcnow()
    window = db.session.scalar(select(AssignmentWindow).where(AssignmentWindow.booking_id == booking.id))
    if booking.end_at + timedelta(minutes=org.grace_minutes) <= now:
        return 0  # a visit in the past: nothing for the sitter to do
    # The booking's latest audit event makes the key: a rerun of this job plans nothing new,
    # a later change of the same kind does.
    stamp = db.session.scalar(select(func.max(EventLog.id)).where(EventLog.booking_id == booking.id)) or 0
    title, body = _visit_text(booking, change, org.timezone, now)
    shows_thread = change in ("added", "changed") and window is not None
    url = f"/sitter/threads/{window.thread_id}" if shows_thread else "/sitter"
    planned = plan_notification(booking.org_id, user_id, VISIT_CHANGES[change],
                                f"visit:{booking.id}:{change}:{user_id}:{stamp}", title, body, url,
                                thread_id=window.thread_id if window else None, booking_id=booking.id)
    if shows_thread and booking.status == "confirmed":
        _schedule_opening(window, now)
    return _deliver_all([planned])


def _schedule_opening(window: AssignmentWindow, now: datetime) -> None:
    at = window.starts_at - OPENING_LEAD
    if at > now:
        enqueue(JOBS.notify_window_opening, window.id, at=at)


def notify_window_opening(window_id: int) -> int:
    """The window's sitter, when it opens within the next ten minutes (else nothing: it moved)."""
    window = db.session.get(AssignmentWindow, window_id)
    if window is None:
        return 0
    now = utcnow()
    return _deliver_all([_plan_opening(window, now)])


def _plan_opening(window: AssignmentWindow, now: datetime) -> int | None:
    booking = window.booking
    user_id = _sitter_user_id(window.sitter_id)
    lead = window.starts_at - now
    in_time = timedelta(0) < lead <= OPENING_LEAD + timedelta(minutes=1)
    if user_id is None or booking.status != "confirmed" or not in_time:
        return None
    client, tz = booking.client, booking.org.timezone
    minutes = max(1, round(lead / timedelta(minutes=1)))
    return plan_notification(window.org_id, user_id, "window_opening",
                             f"opening:{window.id}:{int(window.starts_at.timestamp())}:{user_id}",
                             f"Visit at {format_time(window.starts_at, tz)}: "
                             f"{push_name(client.first_name, client.pet_names)}",
                             f"Messaging opens in {minutes} minutes.", f"/sitter/threads/{window.thread_id}",
                             thread_id=window.thread_id, booking_id=booking.id)


def notify_windows_opening_soon() -> int:
    """Periodic: every window opening within ten minutes gets its notice (once)."""
    now = utcnow()
    windows = db.session.scalars(
        select(AssignmentWindow)
        .join(Booking, Booking.id == AssignmentWindow.booking_id)
        .where(AssignmentWindow.starts_at > now, AssignmentWindow.starts_at <= now + OPENING_LEAD,
               AssignmentWindow.sitter_id.is_not(None), Booking.status == "confirmed")
    ).all()
    return _deliver_all([_plan_opening(window, now) for window in windows])


# ---------------------------------------------------------------- delivery


_N = Notification.__table__
_S = PushSubscription.__table__


@dataclass(frozen=True)
class _Claimed:
    id: int
    user_id: int
    kind: str
    title: str
    body: str
    url: str
    thread_id: int | None
    booking_id: int | None


def _claim(notification_id: int) -> _Claimed | None:
    """pending → sending, once (a job that runs twice delivers once); returns what delivery needs."""
    row = db.session.execute(
        update(_N).where(_N.c.id == notification_id, _N.c.status == "pending").values(status="sending")
        .returning(_N.c.id, _N.c.user_id, _N.c.kind, _N.c.title, _N.c.body, _N.c.url, _N.c.thread_id,
                   _N.c.booking_id)
    ).first()
    return _Claimed(*row) if row else None


def _payload(n: _Claimed) -> dict:
    return {"title": n.title, "body": n.body, "url": n.url, "tag": f"{n.kind}-{n.thread_id or n.booking_id or n.id}",
            "kind": n.kind}


@dataclass(frozen=True)
class PushPolicy:
    ttl: int  # seconds
    urgency: str
    topic: str | None  # one message per topic waits at the push service: the latest


def _push_policy(n: _Claimed, now: datetime) -> PushPolicy:
    """TTL, Urgency and Topic of one notification (RFC 8030)."""
    urgency = "high" if n.kind in HIGH_URGENCY else "normal"
    if n.kind == "client_text" and n.thread_id is not None:
        ends_at = db.session.scalar(select(AssignmentWindow.ends_at).where(AssignmentWindow.thread_id == n.thread_id))
        ttl = int((ends_at - now).total_seconds()) if ends_at is not None else TTL_BY_KIND["client_text"]
        return PushPolicy(max(0, ttl), urgency, f"text-{n.thread_id}")
    return PushPolicy(TTL_BY_KIND.get(n.kind, DEFAULT_TTL), urgency, None)


def _devices(n: _Claimed) -> list:
    if not push_configured():
        return []
    query = select(_S.c.id, _S.c.endpoint, _S.c.p256dh, _S.c.auth).where(_S.c.user_id == n.user_id)
    if n.url.startswith("/admin"):  # the office's news: only the devices opted in for it
        query = query.where(_S.c.inbox_items.is_(True))
    return db.session.execute(query.order_by(_S.c.id)).all()


def deliver_notification(notification_id: int) -> str:
    """Send one planned notification to every device of its person (or the SMS ping).

    Two short transactions around the push services' answers: claim and read the devices,
    then record the outcome (no transaction is held while a push service answers).
    """
    n = _claim(notification_id)
    subscriptions = _devices(n) if n is not None else []
    policy = _push_policy(n, utcnow()) if subscriptions else None
    db.session.commit()
    if n is None:
        return "already handled"
    delivered, gone, errors = [], [], []
    payload = _payload(n)
    deadline = time.monotonic() + current_app.config.get("PUSH_DELIVERY_SECONDS", PUSH_DELIVERY_SECONDS)
    for sub in subscriptions:
        if time.monotonic() >= deadline:
            # Push services that hang must not keep this job past its timeout (the row would stay
            # `sending`): the devices not reached are an error this time, not a wait.
            errors.append((sub.id, "no time left for this device"))
            continue
        outcome = send_web_push(sub.endpoint, sub.p256dh, sub.auth, payload, ttl=policy.ttl,
                                urgency=policy.urgency, topic=policy.topic)
        (delivered if outcome.delivered else gone if outcome.gone else errors).append((sub.id, outcome.error))
        count_push("delivered" if outcome.delivered else "gone" if outcome.gone else "error")
    now = utcnow()
    if gone:
        db.session.execute(delete(_S).where(_S.c.id.in_([i for i, _ in gone])))
    if delivered:
        db.session.execute(update(_S).where(_S.c.id.in_([i for i, _ in delivered])).values(last_sent_at=now))
    outcome = {"devices": len(delivered)}
    if delivered:
        outcome.update(status="sent", channel="push", sent_at=now)
    elif n.kind == "client_text" and _wants_sms_ping(n.user_id):
        db.session.commit()
        status = _send_sms_ping(db.session.get(Notification, n.id), now)
        count_notification("sms", status)
        return status
    elif errors:
        outcome.update(status="failed", channel="push", error="; ".join(sorted({e for _, e in errors}))[:200])
        log.warning("notification %s not delivered to %d device(s): %s", n.id, len(errors), outcome["error"])
    else:
        outcome.update(status="no_device")
    db.session.execute(update(_N).where(_N.c.id == n.id).values(**outcome))
    db.session.commit()
    count_notification(outcome.get("channel", "none"), outcome["status"])
    return outcome["status"]


def _wants_sms_ping(user_id: int) -> bool:
    return bool(db.session.scalar(select(NotificationSettings.sms_ping).where(NotificationSettings.user_id == user_id)))


def _send_sms_ping(n: Notification, now: datetime) -> str:
    """A text to the sitter's own phone from the front desk: who wrote, never what, at most
    one per conversation per ten minutes (serialised on the thread's row)."""
    notification_id = n.id
    db.session.commit()
    lock_row(Thread, n.thread_id)
    n = db.session.get(Notification, notification_id)
    recent = db.session.scalar(
        select(Notification.id).where(Notification.user_id == n.user_id, Notification.thread_id == n.thread_id,
                                      Notification.channel == "sms", Notification.status == "sent",
                                      Notification.sent_at > now - SMS_PING_INTERVAL).limit(1))
    sitter = db.session.scalar(select(Sitter).where(Sitter.user_id == n.user_id))
    from_number_id = front_desk_number_id(n.org_id)
    n.channel = "sms"
    if recent is not None:
        n.status, n.error = "skipped", "a ping for this conversation went out less than 10 minutes ago"
    elif sitter is None or not sitter.phone_e164 or from_number_id is None:
        n.status, n.error = "failed", "no sitter phone or front-desk number for the SMS ping"
    else:
        from app.services.messaging.outbound import queue_outbound_message

        thread = db.session.get(Thread, n.thread_id)
        who = push_name(thread.client.first_name, thread.client.pet_names)
        body = f"New message from {who}: open {current_app.config['APP_NAME']}"
        message = queue_outbound_message(org_id=n.org_id, thread_id=None, from_number_id=from_number_id,
                                         to_e164=sitter.phone_e164, body=body, sender_kind="system")
        n.status, n.sent_at, n.sms_message_id = "sent", now, message.id
    db.session.commit()
    return n.status


def reconcile_notifications() -> int:
    """Periodic: deliver pending rows whose job was lost; give up on stale ones, saying why."""
    now = utcnow()
    db.session.execute(
        update(Notification)
        .where(Notification.status.in_(("pending", "sending")), Notification.created_at <= now - GIVE_UP_AFTER)
        .values(status="failed", error="not delivered in time (its job was lost or stopped)")
        .execution_options(synchronize_session=False))
    due = db.session.scalars(
        select(Notification.id).where(Notification.status == "pending",
                                      Notification.created_at <= now - REDELIVER_AFTER)
        .order_by(Notification.id)).all()
    db.session.commit()
    for notification_id in due:
        enqueue(JOBS.deliver_notification, notification_id)
    return len(due)


def plan_office_note(message: Message, sitter_name: str) -> list[int]:
    """A sitter's note to the office: owners and staff whose device takes inbox items (`inbox_item`).

    Planned in the caller's transaction; the caller enqueues `JOBS.deliver_notification` for each id.
    """
    return plan_office_news(message.org_id, "inbox_item", f"inbox:{message.id}", "New in the inbox",
                            f"A note from {sitter_name}.", "/admin/inbox")


def plan_office_reply(org_id: int, sitter_user_id: int, note_id: int, thread_id: int | None) -> int | None:
    """The office answered a sitter's note: that sitter (`office_reply`); the text stays off the lock screen."""
    return plan_notification(org_id, sitter_user_id, "office_reply", f"office-reply:{note_id}",
                             "The office answered your note", "Tap to read it.", "/sitter/alerts", thread_id=thread_id)
