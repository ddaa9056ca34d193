"""What an action will do, in words, before it is done: the confirm step of every action that
texts a client or cannot be undone ("This texts Taylor Brooks a confirmation from (202) 555-0121").

Read-only: nothing here writes. Each function returns an ActionPreview the confirm page shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from app.clock import utcnow
from app.extensions import db
from app.localtime import format_datetime, format_time, with_their_time
from app.models import AutomationRun, Booking, Client, Message, MessageNumber, Org, Pet, Sitter, Thread, User
from app.services.automations.runs import (
    after_quiet_hours,
    automation_sends_at,
    client_quiet,
    confirmation_was_sent,
    in_quiet_hours,
)
from app.services.automations.templates import template_for
from app.services.bookings.series import planned_move
from app.services.numbers.choice import front_desk_number_id
from app.services.numbers.moves import predict_masking_number
from app.services.people.labels import person_label
from app.services.people.phones import national_format
from app.services.people.time_off import away_warning
from app.services.people.timezones import client_zone_name
from app.services.queries.admin import open_threads_on_number
from app.services.queries.clash_lines import clash_lines
from app.services.visits.exclusions import describe_booking, pair_upcoming_bookings

_SOON = timedelta(minutes=1)


@dataclass
class ActionPreview:
    title: str
    button: str
    lines: list[str] = field(default_factory=list)
    danger: bool = False
    refused: str | None = None  # the action cannot be done now, and why (no button then)


def _when_text(org: Org, client: Client) -> str:
    """'now', or 'at 5:00 AM (8:00 AM their time), after quiet hours' (org time, and the client's
    beside it: quiet hours are theirs)."""
    now, quiet = utcnow(), client_quiet(client, org)
    if not in_quiet_hours(now, org, quiet):
        return "now"
    return f"at {with_their_time(after_quiet_hours(now, org, quiet), org.timezone, quiet.zone)}, after quiet hours"


def _booking_label(booking: Booking, org: Org) -> str:
    return f"booking #{booking.id} ({booking.client.name}, {format_datetime(booking.start_at, org.timezone)})"


def _automation_line(booking: Booking, org: Org, kind: str, what: str, number: MessageNumber | None) -> str:
    """'This texts Taylor Brooks a confirmation from (202) 555-0121 now.' or why it will not."""
    client, words = booking.client, kind.replace("_", " ")
    if client.opted_out:
        return f"{client.name} replied STOP, so the {words} text is not sent to them."
    if not template_for(org.id, kind)[1]:
        return f"{words.capitalize()} texts are turned off, so {client.name} is not texted."
    if number is None:
        return f"There is no number to text {client.name} from, so the {words} text is not sent (add a number)."
    return f"This texts {client.name} {what} from {national_format(number.e164)} {_when_text(org, client)}."


def preview_confirm(booking_id: int) -> ActionPreview:
    booking = db.session.get(Booking, booking_id)
    org = db.session.get(Org, booking.org_id)
    preview = ActionPreview(f"Confirm booking #{booking.id}?", "Yes, confirm it")
    if booking.status not in ("pending", "confirmed"):
        preview.refused = f"Booking #{booking.id} is {booking.status}; it cannot be confirmed."
        return preview
    number = predict_masking_number(booking)
    if booking.status == "pending":
        preview.lines.append(f"This confirms {_booking_label(booking, org)}.")
    else:
        preview.title, preview.button = f"Finish setting up booking #{booking.id}?", "Yes, finish setup"
    if number is None:
        preview.lines.append("There is no active number to give it a conversation: it is confirmed without one, "
                             "and the owners are alerted. Add a number, then confirm again.")
        return preview
    preview.lines.append(f"Its conversation uses {national_format(number.e164)}.")
    already = db.session.scalar(select(AutomationRun.status).where(
        AutomationRun.booking_id == booking.id, AutomationRun.kind == "booking_confirmation"))
    if already is not None:
        preview.lines.append(f"The confirmation text was already {already}; it is not sent again.")
    elif booking.end_at <= utcnow():
        preview.lines.append("The visit is already over, so no confirmation text is sent.")
    else:
        preview.lines.append(_automation_line(booking, org, "booking_confirmation", "a confirmation", number))
    if booking.sitter is not None:
        preview.lines.append(f"{booking.sitter.name} can text {booking.client.first_name} from this number during "
                             "the visit window.")
    return preview


def preview_paid_in_person(booking_id: int) -> ActionPreview:
    booking = db.session.get(Booking, booking_id)
    amount = f"{booking.price_cents / 100:.2f} {booking.currency.upper()}"
    preview = preview_confirm(booking_id)
    preview.title, preview.button = f"Record booking #{booking.id} as paid in person?", "Yes, it is paid"
    preview.lines.insert(0, f"This records {amount} paid in person; it cannot be undone here.")
    return preview


def preview_payment_link(booking_id: int) -> ActionPreview:
    booking = db.session.get(Booking, booking_id)
    org = db.session.get(Org, booking.org_id)
    desk_id = front_desk_number_id(org.id)
    desk = db.session.get(MessageNumber, desk_id) if desk_id else None
    preview = ActionPreview(f"Send a payment link for booking #{booking.id}?", "Yes, send the link")
    preview.lines.append(f"This creates a Stripe payment link for {booking.price_cents / 100:.2f} "
                         f"{booking.currency.upper()}.")
    if booking.client.opted_out:
        preview.lines.append(f"{booking.client.name} replied STOP: the link is not texted; share it yourself.")
    elif desk is None:
        preview.lines.append("There is no front-desk number, so the link is not texted; share it yourself.")
    else:
        preview.lines.append(f"This texts {booking.client.name} the link from the front desk "
                             f"{national_format(desk.e164)} now.")
    return preview


def preview_cancel(booking_id: int, reason: str) -> ActionPreview:
    booking = db.session.get(Booking, booking_id)
    org = db.session.get(Org, booking.org_id)
    preview = ActionPreview(f"Cancel booking #{booking.id}?", "Yes, cancel the booking", danger=True)
    preview.lines.append(f"This cancels {_booking_label(booking, org)} for good (reason: “{reason}”); "
                         "it cannot be undone.")
    thread = db.session.scalar(select(Thread).where(Thread.booking_id == booking.id))
    if booking.status == "confirmed" and booking.sitter is not None:
        preview.lines.append(f"{booking.sitter.name} can no longer text {booking.client.first_name}.")
    scheduled = db.session.scalar(select(func.count(AutomationRun.id)).where(
        AutomationRun.booking_id == booking.id, AutomationRun.status == "scheduled"))
    if scheduled:
        preview.lines.append(f"{scheduled} scheduled text(s) (reminders, follow-up) are cancelled.")
    if confirmation_was_sent(booking.id):
        number = thread.message_number if thread else None
        preview.lines.append(_automation_line(booking, org, "booking_cancelled", "a cancellation", number))
    else:
        preview.lines.append(f"{booking.client.name} never got a confirmation, so they are not texted.")
    return preview


def preview_change_sitter(booking_id: int, sitter_id: int | None) -> ActionPreview | None:
    """None when the sitter stays the same: nothing happens, so there is nothing to confirm."""
    booking = db.session.get(Booking, booking_id)
    if booking.sitter_id == sitter_id:
        return None
    org = db.session.get(Org, booking.org_id)
    new = db.session.get(Sitter, sitter_id) if sitter_id else None
    old = booking.sitter
    preview = ActionPreview(f"Change the sitter of booking #{booking.id}?", "Yes, change the sitter")
    preview.lines.append(f"This gives {_booking_label(booking, org)} to {new.name if new else 'no sitter'}"
                         f"{' instead of ' + old.name if old else ''}.")
    warning = away_warning(sitter_id, [(booking.start_at, booking.end_at)], org.timezone)
    if warning:
        preview.lines.append(warning)
    thread = db.session.scalar(select(Thread).where(Thread.booking_id == booking.id))
    if thread is None or booking.status != "confirmed":
        preview.lines.append("No text is sent: the booking has no conversation yet.")
        return preview
    if old is not None:
        preview.lines.append(f"{old.name} can no longer read or send in the conversation, from now on.")
    number = thread.message_number
    if number is None:
        preview.lines.append("The conversation waits for a number: the new sitter's own number, if any, ends "
                             "the wait, and the confirmation goes out then.")
        return preview
    if old is not None and number.kind == "sitter" and number.sitter_id == old.id:
        number = predict_masking_number(booking, avoid=(number.id,))
        preview.lines.append(f"The conversation is on {old.name}'s own number, so it moves to "
                             f"{national_format(number.e164) if number else 'a new number (none is free: add one)'}.")
    preview.lines.append(_automation_line(booking, org, "sitter_changed", "that their sitter changed", number))
    return preview


def preview_booking_time_off(org_id: int, sitter_id: int | None, start_at, end_at,
                             booking_id: int | None = None) -> ActionPreview | None:
    """A new or edited booking whose sitter is away that day: the warning, and a yes to go on.
    None when the sitter is not away (creating or saving a pending booking texts nobody)."""
    org = db.session.get(Org, org_id)
    warning = away_warning(sitter_id, [(start_at, end_at)], org.timezone)
    if warning is None:
        return None
    what = f"booking #{booking_id}" if booking_id else "this booking"
    preview = ActionPreview(f"Save {what} with a sitter who is away?", "Yes, save it anyway")
    preview.lines.append(warning)
    preview.lines.append(f"The visit is {format_datetime(start_at, org.timezone)} – "
                         f"{format_time(end_at, org.timezone)}; nothing is texted when a pending booking is saved.")
    return preview


def preview_reschedule(booking_id: int, start_at, end_at) -> ActionPreview | None:
    """A move onto another of the sitter's visits or a day they are away: the warnings, and a yes to go on.
    None when the new time is free (the move saves at once, as it always did)."""
    booking = db.session.get(Booking, booking_id)
    org = db.session.get(Org, booking.org_id)
    warnings = clash_lines(org, [planned_move(booking, start_at, end_at)])
    if not warnings:
        return None
    preview = ActionPreview(f"Move booking #{booking.id} to a time {booking.sitter.name} is not free?",
                            "Yes, move it anyway")
    preview.lines.append(f"This moves {_booking_label(booking, org)} to {format_datetime(start_at, org.timezone)} "
                         f"– {format_time(end_at, org.timezone)}.")
    preview.lines.extend(warnings)
    if booking.status == "confirmed":
        preview.lines.append(f"Its conversation window and scheduled texts follow the new times and "
                             f"{booking.sitter.name} is notified; {booking.client.name} is not texted about it.")
    else:
        preview.lines.append("Nothing is texted: the booking is not confirmed yet.")
    return preview


def preview_automation_off(org_id: int, kind: str) -> ActionPreview:
    words = kind.replace("_", " ")
    scheduled = db.session.scalar(select(func.count(AutomationRun.id)).where(
        AutomationRun.org_id == org_id, AutomationRun.kind == kind, AutomationRun.status == "scheduled"))
    preview = ActionPreview(f"Turn off {words} texts?", "Yes, turn them off", danger=True)
    preview.lines.append(f"No client gets a {words} text while this is off, including the {scheduled} already "
                         "scheduled: they are skipped when due, and not sent later if you turn it back on.")
    return preview


def preview_template_reset(org_id: int, kind: str) -> ActionPreview:
    words = kind.replace("_", " ")
    preview = ActionPreview(f"Put the {words} text back to the default?", "Yes, use the default", danger=True)
    preview.lines.append("Your own wording is deleted and cannot be recovered; texts not yet sent use the default.")
    return preview


def preview_retry_run(run_id: int) -> ActionPreview:
    run = db.session.get(AutomationRun, run_id)
    booking = db.session.get(Booking, run.booking_id)
    org = db.session.get(Org, booking.org_id)
    thread = db.session.scalar(select(Thread).where(Thread.booking_id == booking.id))
    number = thread.message_number if thread else db.session.get(MessageNumber, front_desk_number_id(org.id) or 0)
    preview = ActionPreview(f"Send the {run.kind.replace('_', ' ')} text again?", "Yes, try again")
    preview.lines.append(_automation_line(booking, org, run.kind, f"the {run.kind.replace('_', ' ')}", number))
    return preview


def preview_retire_number(number_id: int) -> ActionPreview:
    number = db.session.get(MessageNumber, number_id)
    preview = ActionPreview(f"Retire {national_format(number.e164)}?", "Yes, retire it", danger=True)
    open_threads = open_threads_on_number(number.id)
    if open_threads:
        preview.refused = (f"It carries {len(open_threads)} open conversation(s): move them to new numbers first "
                           "(the clients are told from their new number).")
        return preview
    preview.lines.append("No new booking gets this number, and it is no longer offered for replies.")
    preview.lines.append("Texts clients send to it later still reach the owner inbox while the provider "
                         "routes it to us; release it at the provider when you are sure.")
    return preview


def preview_move_threads(number_id: int) -> ActionPreview:
    number = db.session.get(MessageNumber, number_id)
    open_threads = open_threads_on_number(number.id)
    preview = ActionPreview(f"Move the conversations off {national_format(number.e164)}?",
                            f"Yes, move {len(open_threads)} conversation(s)")
    if not open_threads:
        preview.refused = "No open conversation uses this number."
        return preview
    names = ", ".join(f"{t.client.name} (booking #{t.booking_id})" for t in open_threads[:10])
    preview.lines.append(f"Each conversation gets a newly chosen number (the sitter's own, a free pool number, "
                         f"or the front desk), never this one: {names}"
                         f"{' and more' if len(open_threads) > 10 else ''}.")
    preview.lines.append("This texts each client from their new number, now, that it replaces the old one "
                         "(not those who replied STOP).")
    preview.lines.append("Sitters keep their conversations; replies to the new number reach them in the window.")
    return preview


def preview_deactivate_user(user_id: int) -> ActionPreview:
    user = db.session.get(User, user_id)
    preview = ActionPreview(f"Deactivate {person_label(user)}'s login?", "Yes, deactivate", danger=True)
    preview.lines.append(f"{user.name} ({user.email}) can no longer log in, and every session they have open "
                         "ends now (on every device).")
    if user.role == "sitter":
        preview.lines.append("Their bookings keep them as sitter: change the sitter of upcoming bookings so "
                             "clients are not left without one.")
    preview.lines.append("An owner can reactivate the login later.")
    return preview


def preview_remove_pet(pet_id: int) -> ActionPreview:
    pet = db.session.get(Pet, pet_id)
    preview = ActionPreview(f"Remove {pet.name}?", f"Yes, remove {pet.name}", danger=True)
    preview.lines.append(f"This removes {pet.name} from {pet.client.name}'s record for good, with their care notes; "
                         "texts not yet sent no longer name them.")
    return preview


_RUN_REASONS = {
    "opted_out": "they replied STOP",
    "template_disabled": "those texts are turned off",
    "booking_already_over": "the visit is already over",
    "booking_not_confirmed": "the booking is not confirmed",
}


def text_outcome(booking_id: int, kind: str) -> str:
    """After an action: what became of the client's `kind` text, truthfully ('Jamie will be told by
    text', 'Jamie was not texted: they replied STOP'). Reads the run and its message."""
    booking = db.session.get(Booking, booking_id)
    org = db.session.get(Org, booking.org_id)
    who = booking.client.first_name
    run = db.session.scalar(select(AutomationRun).where(AutomationRun.booking_id == booking_id,
                                                        AutomationRun.kind == kind))
    if run is None:
        return f"{who} was not texted"
    if run.status == "scheduled":
        sends_at = automation_sends_at(run.scheduled_for, booking.client, org)
        if sends_at > utcnow() + _SOON:
            when = with_their_time(sends_at, org.timezone, client_zone_name(booking.client, org))
            return f"{who} will be texted at {when} (after quiet hours)"
        return f"{who} will be told by text"
    if run.status == "sent":
        status = db.session.scalar(select(Message.status).where(Message.id == run.message_id))
        if status == "blocked":
            return f"{who} was not texted: they replied STOP"
        if status in ("failed", "undelivered"):
            return f"the text to {who} failed (see the conversation)"
        return f"{who} was texted" if status in ("sent", "delivered") else f"{who} will be told by text"
    return f"{who} was not texted: {_RUN_REASONS.get(run.reason, run.reason or run.status)}"


def preview_exclude_sitter(org_id: int, client_id: int, sitter_id: int) -> ActionPreview | None:
    """The pair's upcoming bookings, each of which will need a new sitter. None when the sitter or
    client is not this org's (the action then answers with the field error)."""
    client, sitter = db.session.get(Client, client_id), db.session.get(Sitter, sitter_id) if sitter_id else None
    if client is None or sitter is None or client.org_id != org_id or sitter.org_id != org_id:
        return None
    tz = db.session.get(Org, org_id).timezone
    preview = ActionPreview(f"Don't send {sitter.name} to {client.name} again?", "Yes, mark them")
    preview.lines.append(f"New bookings and sitter changes will refuse {sitter.name} for {client.name}.")
    upcoming = pair_upcoming_bookings(client.id, sitter.id)
    if not upcoming:
        preview.lines.append(f"{sitter.name} has no upcoming booking with {client.name}.")
        return preview
    preview.lines.append(f"{sitter.name} still has {len(upcoming)} upcoming booking{'s' if len(upcoming) != 1 else ''} "
                         f"with {client.name}; each will be flagged as needing a new sitter (booking page, "
                         "calendar, Today) and one owner alert will list them. Nothing is texted:")
    preview.lines.extend(describe_booking(b, tz) for b in upcoming)
    return preview
