"""Inbound SMS routing: every text a client sends lands in exactly one safe place.

`From` is the sender, `To` one of our numbers. Routing (DESIGN "Inbound routing"):

| To / From                                   | thread                      | owner inbox | reason                  |
|---------------------------------------------|-----------------------------|-------------|-------------------------|
| not one of our numbers                      | not stored (no org owns it) | -           | logged, ignored         |
| From missing or not E.164                   | none                        | yes         | invalid_sender          |
| pool/sitter number, unknown sender          | none                        | yes         | unknown_sender          |
| pool/sitter number, client, no thread on it | none                        | yes         | no_thread_on_number     |
| client's thread on it with an open window   | that thread                 | no          | active_window           |
| two or more open threads of the client on it| none (front desk: theirs)   | yes         | ambiguous_threads       |
| client's threads on it, none open           | the most recent one         | yes         | recent_thread_no_window |
| front desk, known client                    | their front-desk thread     | yes         | front_desk_client       |
| front desk, unknown sender                  | none                        | yes         | front_desk_unknown      |

One number, one conversation: when the sender has two or more open threads on the number
(legacy data, or after a move) nothing guesses: the text goes to the owner inbox, an owner
alert names the candidate visits, and no sitter sees it.

Pool leakage safety: a text reaches a booking thread (and so a sitter) only
when the sender is that thread's client on that very number. STOP / START /
HELP keep the thread chosen above and record `opt_out` / `opt_in` / `help`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import and_, bindparam, false, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from app.clock import utcnow
from app.errors import InvalidInput
from app.extensions import db
from app.jobs.queue import enqueue
from app.jobs.specs import JOBS
from app.models import AssignmentWindow, Booking, Client, ConsentEvent, Message, MessageNumber, Org, Thread
from app.models.visits import VisitReport
from app.privacy import mask_phone
from app.services.audit.events import record_event
from app.services.media.inbound import parse_inbound_media, record_inbound_media
from app.services.messaging.inbound_consent import plain_language_action, record_inbound_consent
from app.services.messaging.opt_out import keyword_action, set_client_opt_out
from app.services.messaging.out_of_window import name_candidate_visits, reply_out_of_window
from app.services.messaging.outbound import INSERT_MESSAGE, queue_outbound_message
from app.services.messaging.wording import help_text
from app.services.people.consent import phone_hash
from app.services.people.phones import is_e164
from app.services.visits.replies import link_report_reply

log = logging.getLogger(__name__)


# What each routing reason means, for owners reading the inbox.
ROUTING_REASON_LABELS = {
    "active_window": "Sent during the booking's visit window",
    "recent_thread_no_window": "No visit window open: filed on the client's latest booking",
    "unknown_sender": "Sender is not a client of this business",
    "no_thread_on_number": "Client has no booking on this number",
    "front_desk_client": "Client texted the front desk",
    "front_desk_unknown": "Unknown sender texted the front desk",
    "invalid_sender": "Sender number missing or not a phone number",
    "opt_out": "Client replied STOP: texts to them are paused",
    "opt_in": "Client replied START: texts resume",
    "help": "Client asked for HELP: the business name, support contact and how to stop were sent",
    "ambiguous_threads": "Client has several open visits on this number: shown to no sitter (the alert names them)",
    "sitter_note": "A sitter wrote to the office",
}


@dataclass
class Route:
    thread: Thread | None
    owner_inbox: bool
    reason: str
    candidates: list[Booking] = field(default_factory=list)  # ambiguous_threads: the open visits


def _field(fields: Mapping[str, str], name: str) -> str:
    return (fields.get(name) or "").strip()


def _clean_body(raw: str | None) -> str:
    # PostgreSQL text cannot hold NUL; nothing else is altered (emoji, any script, any length).
    return (raw or "").replace("\x00", "")


def route_inbound_sms(fields: Mapping[str, str]) -> int | None:
    """Record one inbound text (once per MessageSid) and route it. Returns the message's id
    (the earlier one for a repeated MessageSid), or None when `To` is not ours.

    Raises InvalidInput when the request lacks what is needed to record it at
    all (MessageSid, To). Commits.
    """
    sid = _field(fields, "MessageSid") or _field(fields, "SmsSid")
    to_e164 = _field(fields, "To")
    if not sid:
        raise InvalidInput("An inbound message needs a MessageSid.", field="MessageSid")
    if not to_e164:
        raise InvalidInput("An inbound message needs a To number.", field="To")
    from_raw = _field(fields, "From")
    sender = from_raw if is_e164(from_raw) else None
    reads = _routing_reads(to_e164, sid, sender)
    existing = (reads.existing_id if reads.existing_id is not None
                else _message_id_by_sid(sid) if reads.number is None else None)
    if existing is not None:
        log.info("inbound %s already recorded as message %s", sid, existing)
        return existing
    number, client = reads.number, reads.client
    if number is None:
        log.warning("inbound %s to %s (not one of our numbers) from %s: ignored", sid,
                    mask_phone(to_e164), mask_phone(from_raw))
        return None

    body = _clean_body(fields.get("Body"))
    route = choose_route(number, client, reads.threads) if sender else Route(None, True, "invalid_sender")
    action = keyword_action(body, fields.get("OptOutType")) if sender else None
    if action is None and sender:
        action = plain_language_action(body, client)  # "please stop texting me", or a mention
    if action in ("stop", "start", "plain_stop") and client is not None:
        set_client_opt_out(client, action != "start", source=f"inbound_{action}")
        route.reason, route.owner_inbox = ("opt_in" if action == "start" else "opt_out"), True
    elif action == "help":
        route.reason = "help"
    elif action == "possible_stop":
        route.owner_inbox = True  # a person reads it and decides

    thread_id = route.thread.id if route.thread else None
    row = dict(org_id=number.org_id, thread_id=thread_id, direction="inbound",
               sender_kind="client" if client else "unknown", body=body, status="received",
               provider_sid=sid, message_number_id=number.id, from_e164=from_raw[:32] or None,
               to_e164=number.e164, routing_reason=route.reason, owner_inbox=route.owner_inbox,
               created_at=utcnow())
    try:
        message_id = _record(row)
    except IntegrityError:
        # The same MessageSid is being recorded by a concurrent request: keep theirs, undo ours
        # (all of ours: the whole transaction, so no savepoint is needed around the insert).
        db.session.rollback()
        log.info("inbound %s recorded concurrently; duplicate dropped", sid)
        return _message_id_by_sid(sid)
    media = parse_inbound_media(fields)
    if route.reason == "ambiguous_threads":
        name_candidate_visits(number, client, message_id, route.candidates)
    if route.reason == "recent_thread_no_window" and action is None:
        reply_out_of_window(number, client, route.thread, message_id)
    report = reads.reports.get(route.thread.booking_id) if route.thread is not None else None
    if action is None and client is not None and report is not None:
        # On the thread of a booking whose report was texted: maybe a reply to it (owners see it there).
        link_report_reply(number.org_id, route.thread.booking_id, *report, message_id=message_id, body=body)
    if media:  # MMS: the media belong to this message; each is fetched by its own job
        record_inbound_media(number.org_id, message_id, media)
    if sender:
        record_inbound_consent(number=number, client=client, sender=sender, body=body, action=action,
                               message_id=message_id, thread_id=thread_id, has_consent=reads.has_consent)
    # Twilio's Advanced Opt-Out has already answered HELP when it sends OptOutType=HELP.
    if action == "help" and not _field(fields, "OptOutType"):
        _answer_help(number, sender, route.thread)
    db.session.commit()
    enqueue(JOBS.notify_client_text, message_id)  # the sitter's push or ping, owners' inbox push
    log.info("inbound %s from %s to %s: message %s routed %s (thread %s, %d chars, %d media)", sid,
             mask_phone(from_raw), mask_phone(to_e164), message_id, route.reason, thread_id,
             len(body), len(media))
    return message_id


# Built once: each text differs only in its parameters.
_TOUCH_THREAD = (update(Thread.__table__).where(Thread.__table__.c.id == bindparam("thread_id"))
                 .values(last_message_at=bindparam("at")))


def _record(row: dict) -> int:
    """Write the message and touch its thread with Core statements (no unit-of-work flush, which
    cost about a third of the request's CPU); returns the message id."""
    message_id = db.session.execute(INSERT_MESSAGE, row).scalar_one()
    if row["thread_id"] is not None:
        db.session.execute(_TOUCH_THREAD, {"thread_id": row["thread_id"], "at": row["created_at"]})
    return message_id


@dataclass
class _RoutingReads:
    number: MessageNumber | None
    existing_id: int | None  # a message already recorded with this MessageSid
    client: Client | None
    threads: list[tuple[Thread, AssignmentWindow | None, Booking]]
    has_consent: bool = False  # the consent ledger has a row for the sender's number
    # Booking id -> (its texted visit report's id, when it was texted), for the threads above.
    reports: dict[int, tuple[int, datetime]] = field(default_factory=dict)


def _routing_reads(to_e164: str, sid: str, sender: str | None) -> _RoutingReads:
    """Everything routing reads, in one round trip: our number, whether this MessageSid is
    already recorded, the sender as a client of the number's org, and that client's booking
    threads on that number (with their windows, bookings and texted visit reports). One row per
    thread, or one row with no thread; no row when the number is not ours.

    Columns only (lazyload): routing needs no pets, and no relationship of these rows.
    """
    query = _routing_query(with_sender=sender is not None)
    rows = db.session.execute(query, {"to_e164": to_e164, "sid": sid, "sender": sender,
                                      "sender_hash": phone_hash(sender) if sender else None}).all()
    if not rows:
        return _RoutingReads(None, None, None, [])
    number, existing_id, has_consent, client = rows[0][:4]
    threads = [(thread, window, booking) for *_, thread, window, booking, _, _ in rows
               if thread is not None and booking is not None]
    reports = {booking.id: (report_id, texted_at) for *_, booking, report_id, texted_at in rows
               if booking is not None and report_id is not None}
    return _RoutingReads(number, existing_id, client, threads, bool(has_consent), reports)


@cache
def _routing_query(with_sender: bool):
    """Built once per shape (bound parameters to_e164, sid, sender): building the statement
    and its cache key on every text cost about as much as running it."""
    recorded = select(Message.id).where(Message.provider_sid == bindparam("sid")).scalar_subquery()
    # Whether the sender's number is on the consent ledger (its first text records a grant).
    consented = (select(ConsentEvent.id).where(ConsentEvent.org_id == MessageNumber.org_id,
                                               ConsentEvent.phone_hash == bindparam("sender_hash"))
                 .exists().label("has_consent"))
    # No sender (not E.164): no client row, rather than `phone_e164 IS NULL` matching one.
    is_sender = (and_(Client.org_id == MessageNumber.org_id, Client.phone_e164 == bindparam("sender"))
                 if with_sender else false())
    return (
        select(MessageNumber, recorded, consented, Client, Thread, AssignmentWindow, Booking,
               VisitReport.id, VisitReport.created_at)
        .select_from(MessageNumber)
        .outerjoin(Client, is_sender)
        .outerjoin(Thread, and_(Thread.message_number_id == MessageNumber.id, Thread.client_id == Client.id,
                                Thread.scope == "client_booking"))
        .outerjoin(Booking, Booking.id == Thread.booking_id)
        .outerjoin(AssignmentWindow, AssignmentWindow.thread_id == Thread.id)
        .outerjoin(VisitReport, and_(VisitReport.booking_id == Booking.id, VisitReport.message_id.is_not(None)))
        .where(MessageNumber.e164 == bindparam("to_e164"))
        .options(lazyload("*"))
    )


def choose_route(number: MessageNumber, client: Client | None, threads: list[tuple]) -> Route:
    """Where a text from `client` (None: unknown sender) to `number` belongs, given the client's
    booking threads on that number as (thread, window or None, booking) rows."""
    if client is None:
        return Route(None, True, "front_desk_unknown" if number.kind == "front_desk" else "unknown_sender")
    now = utcnow()
    still_open = [(t, w, b) for t, w, b in threads
                  if b.status in ("pending", "confirmed") and (w is None or w.ends_at > now)]
    if len(still_open) >= 2:
        # One number, one conversation: never guess which visit (and sitter) it is about.
        thread = front_desk_thread(number, client) if number.kind == "front_desk" else None
        return Route(thread, True, "ambiguous_threads",
                     candidates=sorted((b for _, _, b in still_open), key=lambda b: (b.start_at, b.id)))
    open_ones = [(w.starts_at, t.id, t) for t, w, b in threads
                 if w is not None and w.is_open_at(now) and b.status != "cancelled"]
    if open_ones:
        return Route(max(open_ones, key=lambda row: row[:2])[2], False, "active_window")
    if number.kind == "front_desk":
        return Route(front_desk_thread(number, client), True, "front_desk_client")
    if not threads:
        return Route(None, True, "no_thread_on_number")
    recent = max(threads, key=lambda row: (row[2].start_at, row[0].id))[0]
    return Route(recent, True, "recent_thread_no_window")


def front_desk_thread(number: MessageNumber, client: Client, actor: str = "twilio") -> Thread:
    """The client's one front-desk thread, created on first use (INSERT … ON CONFLICT DO NOTHING)."""
    query = select(Thread).where(Thread.org_id == client.org_id, Thread.client_id == client.id,
                                 Thread.scope == "front_desk")
    thread = db.session.scalar(query)
    if thread is not None:
        return thread
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    created = db.session.execute(
        insert(Thread)
        .values(org_id=client.org_id, client_id=client.id, booking_id=None, scope="front_desk",
                message_number_id=number.id, number_reason="front_desk", created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["org_id", "client_id"],
                                index_where=text("scope = 'front_desk'"))
    )
    thread = db.session.scalar(query)
    if created.rowcount:
        record_event(client.org_id, "thread.created", thread_id=thread.id, actor=actor,
                     scope="front_desk", client_id=client.id)
    return thread


def _answer_help(number: MessageNumber, to_e164: str, thread: Thread | None) -> None:
    """HELP gets the business name, what the texts are about, a support contact, the rates line
    and how to stop, from the number it was sent to (blocked if opted out)."""
    org = db.session.get(Org, number.org_id)
    body = help_text(org)
    queue_outbound_message(org_id=number.org_id, thread_id=thread.id if thread else None,
                           from_number_id=number.id, to_e164=to_e164, body=body, sender_kind="system")


def _message_id_by_sid(sid: str) -> int | None:
    return db.session.scalar(select(Message.id).where(Message.provider_sid == sid))
