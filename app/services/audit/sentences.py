"""The audit log in sentences: local times, people and numbers by name, reasons in plain words.

Each row keeps its raw payload for the toggle; the sentence is built from a table of
templates per kind, with names resolved for a whole page in a few queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.localtime import format_datetime
from app.models import Booking, Client, EventLog, MessageNumber, Sitter
from app.services.people.labels import actor_labels, person_label, readable_phone, users_by_id

# Why a number was chosen for a thread, in words.
NUMBER_REASONS = {
    "sitter_dedicated": "the sitter's own number",
    "pool_lru": "the pool number used least recently",
    "front_desk": "the front-desk number (no sitter or pool number was free)",
    "kept": "the number it already had",
}

# Short reason codes some events carry.
REASON_WORDS = {
    "cancelled": "the booking was cancelled",
    "no_thread": "the booking had no conversation yet",
    "booked_after_reminder_time": "it was booked after the reminder time",
    "number_retired": "its number is being retired",
}

SENTENCES = {
    "booking.created": "{actor} created booking {booking}{for_sitter}.",
    "booking.edited": "{actor} edited booking {booking}.",
    "booking.confirmed": "{actor} confirmed booking {booking}.",
    "booking.confirm_ignored": "{actor} tried to confirm booking {booking}, but it was already {status}.",
    "booking.cancelled": "{actor} cancelled booking {booking} ({reason}).",
    "booking.cancel_ignored": "{actor} tried to cancel booking {booking}, but it was already {status}.",
    "booking.sitter_changed": "{actor} changed the sitter of booking {booking} from {previous_sitter} to {sitter}.",
    "booking.rescheduled": "{actor} moved booking {booking} from {previous_start_at} to {start_at}.",
    "booking.completed": "Booking {booking} was completed (its visit window ended).",
    "booking.no_number": "Booking {booking} has no number to text from: {reason}.",
    "thread.created": "{actor} opened a conversation{with_client}{for_booking}.",
    "thread.number_changed": "The conversation of booking {booking} moved from {previous_number} to {number} "
                             "({reason_number}).",
    "number.assigned": "{number} was given to booking {booking}: {reason_number}.",
    "number.added": "{actor} added the {number_kind} number {number}.",
    "number.retired": "{actor} retired the number {number}.",
    "window.created": "The sitter's window for booking {booking} was set: {starts_at} to {ends_at}.",
    "window.updated": "The sitter's window for booking {booking} changed.",
    "window.closed": "The sitter's window for booking {booking} closed early: {reason}.",
    "message.failed": "A text in booking {booking}'s conversation could not be delivered ({status}).",
    "message.blocked_outside_window": "{actor} tried to text outside the visit window; it was not sent.",
    "policy.violation": "{actor} wrote a text with contact or payment details; it was {policy_outcome}.",
    "inbox.replied": "{actor} replied to a text in the inbox.",
    "inbox.handled": "{actor} marked an inbox text as handled.",
    "inbox.reopened": "{actor} marked an inbox text as not handled.",
    "office.texted": "{actor} texted {client} from {number}{booking_suffix}.",
    "office.note": "{actor} wrote a note to the office.",
    "office.answered": "{actor} answered a sitter's note.",
    "alert.resolved": "{actor} resolved an alert.",
    "client.created": "{actor} added the client {client}.",
    "client.updated": "{actor} edited the client {client}.",
    "client.opted_out": "{client} replied STOP: texts to them are paused.",
    "client.opted_in": "{client} replied START: texts resume.",
    "pet.added": "{actor} added {pet} to {client}.",
    "pet.removed": "{actor} removed {pet} from {client}.",
    "sitter.created": "{actor} added the sitter {sitter}.",
    "sitter.updated": "{actor} edited the sitter {sitter}.",
    "user.added": "{actor} gave {user} a login ({role}).",
    "user.activated": "{actor} reactivated {user}'s login.",
    "user.deactivated": "{actor} deactivated {user}'s login.",
    "sitter.login_added": "{actor} gave the sitter {sitter} a login.",
    "login.failed": "Someone failed to log in as {user} (from {address}).",
    "login.locked": "Logins as {user} are paused after repeated failures (from {address}).",
    "user.password_changed": "{user} changed their password ({sessions_ended} other session(s) ended).",
    "user.password_reset": "{user} reset their password ({sessions_ended} session(s) ended).",
    "user.sessions_ended": "{actor} ended {user}'s sessions ({sessions_ended}).",
    "user.reset_link_issued": "{actor} issued a password reset link for {user}.",
    "user.reset_code_sent": "A password reset code was texted to {user}'s phone.",
    "user.reset_code_not_sent": "{user} asked for a password reset code; it was not sent: {reason}.",
    "settings.changed": "{actor} changed the business settings.",
    "automation.template_saved": "{actor} saved the {automation} text ({on_off}).",
    "automation.template_reset": "{actor} put the {automation} text back to the default.",
    "automation.retried": "{actor} scheduled the {automation} text of booking {booking} again.",
    "automation.failed": "The {automation} text of booking {booking} failed: {reason}.",
    "automation.fallback_front_desk": "The {automation} text of booking {booking} went from the front desk "
                                      "({reason}).",
    "payment.received": "{actor} recorded a payment of {amount} for booking {booking}.",
    "payment.refunded": "{actor} recorded a refund of {amount} for booking {booking}.",
    "payment.ignored": "A payment event for booking {booking} was not applied: {reason}.",
    "payment_link.created": "{actor} created a payment link for booking {booking} ({amount}).",
    "payment_link.not_texted": "The payment link for booking {booking} was not texted: {reason}.",
    "care_notes.viewed": "{actor} read the care notes of {client}{for_booking}.",
    "care_note.saved": "{actor} saved a {note_kind} care note for {client}.",
    "care_note.removed": "{actor} removed a {note_kind} care note of {client}.",
    "inbound.simulated": "{actor} simulated a text from {from_phone} to {number}.",
    # Visits (check-in and out, late visits, the visit report and its replies, "don't send again").
    "visit.checked_in": "{sitter} checked in to booking {booking}{distance}.",
    "visit.checked_out": "{sitter} checked out of booking {booking}{distance}.",
    "visit.late": "The visit of booking {booking} was not checked in on time{by_sitter} (owners alerted).",
    "visit.unfinished": "The visit of booking {booking} was not checked out an hour after its end "
                        "(owners alerted).",
    "visit.late_cleared": "The late alert of booking {booking} was cleared: {late_reason}.",
    "visit.on_the_way_texted": "{client} was texted that the sitter is on the way (booking {booking}).",
    "visit.arrival_texted": "{client} was texted that the sitter arrived (booking {booking}).",
    "visit.report_sent": "{actor} sent the visit report of booking {booking} to {client}{photos}.",
    "visit.report_saved": "{actor} saved the visit report of booking {booking}; it was not texted ({reason}).",
    "visit.report_edited": "{actor} edited the visit report of booking {booking} (not texted again).",
    "visit.report_reply": "{client} replied to the visit report of booking {booking}{concern}.",
    "visit.report_concern": "{client}'s reply to the visit report of booking {booking} sounds like a concern "
                            "({words}): owners alerted.",
    "visit.checklist_changed": "{actor} set the visit checklist for {service}: {items}.",
    "visit.needs_new_sitter": "{sitter} may not be sent to {client} again but still had {bookings}: "
                              "each needs a new sitter (owners alerted).",
    "client.sitter_excluded": "{actor} marked {sitter} not to be sent to {client} again{because}.",
    "client.sitter_exclusion_removed": "{actor} removed the mark: {sitter} may be sent to {client} again.",
    "client.address_point_set": "{actor} set the map point of {client}'s address.",
    "client.address_point_removed": "{actor} removed the map point of {client}'s address.",
}

LATE_CLEARED = {"cancelled": "the visit was cancelled", "sitter changed": "another sitter has the visit"}


@dataclass(frozen=True)
class AuditLine:
    event_id: int
    at: str  # in the org's timezone
    kind: str
    sentence: str
    booking_id: int | None
    thread_id: int | None
    payload: dict


class _Blank(dict):
    def __missing__(self, key):
        return "—"


def _when(value, tz: str) -> str:
    if not value:
        return "—"
    try:
        return format_datetime(datetime.fromisoformat(value), tz)
    except (TypeError, ValueError):
        return str(value)


def describe_events(org_id: int, tz: str, events: list[EventLog]) -> list[AuditLine]:
    """Sentences for a page of events; names come from five batched queries."""
    payloads = [e.payload or {} for e in events]
    labels = actor_labels(org_id, {e.actor for e in events})
    sitter_ids = {e.sitter_id for e in events} | {p.get("previous_sitter_id") for p in payloads}
    sitters = _by_id(Sitter, org_id, sitter_ids)
    bookings = _by_id(Booking, org_id, {e.booking_id for e in events})
    clients = _by_id(Client, org_id, {p.get("client_id") for p in payloads})
    numbers = _by_id(MessageNumber, org_id, {p.get(k) for p in payloads for k in ("number_id", "previous_number_id")})
    users = users_by_id(org_id, {p.get("user_id") for p in payloads if isinstance(p.get("user_id"), int)})

    def number(number_id):
        row = numbers.get(number_id)
        return readable_phone(row.e164) if row else "a number"

    lines = []
    for event, p in zip(events, payloads, strict=True):
        sitter = sitters.get(event.sitter_id)
        previous = sitters.get(p.get("previous_sitter_id"))
        booking = bookings.get(event.booking_id)
        client = clients.get(p.get("client_id")) or (booking.client if booking else None)
        reason = p.get("reason")
        values = _Blank(p)
        values.update(
            actor=labels.get(event.actor, event.actor),
            booking=f"#{event.booking_id}" if event.booking_id else "(none)",
            sitter=sitter.name if sitter else "no sitter",
            previous_sitter=previous.name if previous else "no sitter",
            for_sitter=f" with {sitter.name}" if sitter else "",
            by_sitter=f" by {sitter.name}" if sitter else " (no sitter was assigned)",
            client=client.name if client else "a client",
            with_client=f" with {client.name}" if client else "",
            for_booking=f" for booking #{event.booking_id}" if event.booking_id else "",
            booking_suffix=f" (booking #{event.booking_id})" if event.booking_id else "",
            number=number(p.get("number_id")),
            previous_number=number(p.get("previous_number_id")),
            reason=REASON_WORDS.get(reason, reason or "no reason given"),
            reason_number=NUMBER_REASONS.get(reason, reason or "chosen by hand"),
            automation=(p.get("automation") or "automated").replace("_", " "),
            user=person_label(users.get(p.get("user_id"))) if p.get("user_id") else "a user",
            amount=_money(p.get("amount_cents"), p.get("currency")),
            on_off="on" if p.get("enabled", True) else "off",
            number_kind=(p.get("number_kind") or "").replace("_", " "),
            note_kind=(p.get("note_kind") or "").replace("_", " "),
            from_phone=readable_phone(p.get("from_e164")) or "a phone",
            policy_outcome="sent and flagged" if p.get("mode") == "flag" else "blocked",
            starts_at=_when(p.get("starts_at"), tz), ends_at=_when(p.get("ends_at"), tz),
            start_at=_when(p.get("start_at"), tz), previous_start_at=_when(p.get("previous_start_at"), tz),
            **_visit_values(p),
        )
        template = SENTENCES.get(event.kind, "{actor}: " + event.kind.replace(".", " ").replace("_", " ") + ".")
        sentence = template.format_map(values)
        lines.append(AuditLine(event.id, format_datetime(event.created_at, tz), event.kind,
                               sentence[:1].upper() + sentence[1:], event.booking_id, event.thread_id, p))
    return lines


def _by_id(model, org_id: int, ids) -> dict:
    ids = {i for i in ids if isinstance(i, int)}
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.org_id == org_id, model.id.in_(ids)))}


def _money(cents, currency) -> str:
    if not isinstance(cents, int):
        return "an amount"
    return f"{cents / 100:.2f} {(currency or 'usd').upper()}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _visit_values(p: dict) -> dict:
    """The words the visit sentences need from their payloads (a distance, never coordinates)."""
    distance, photos, words = p.get("distance_m"), p.get("photos"), p.get("words") or []
    bookings = [f"#{b}" for b in p.get("booking_ids") or []]
    items = p.get("items") or []
    return dict(
        distance=f" ({distance} m from the client's address)" if isinstance(distance, int | float) else "",
        photos=f" with {_count(photos, 'photo')}" if isinstance(photos, int) and photos else "",
        words=", ".join(words) or "—",
        concern=f" (sounds like a concern: {', '.join(words)})" if p.get("concern") and words else "",
        bookings=f"{_count(len(bookings), 'upcoming booking')} with them ({', '.join(bookings)})" if bookings
        else "upcoming bookings with them",
        because=f" ({p['reason']})" if p.get("reason") else "",
        items=", ".join(str(i) for i in items) if items else "nothing to tick",
        late_reason=LATE_CLEARED.get(p.get("reason"), p.get("reason") or "no reason given"),
    )
