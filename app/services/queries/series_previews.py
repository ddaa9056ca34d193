"""The confirm steps of recurring visits, in words: the occurrences a repeat rule makes (with the
sitter's clashes), and what cancelling or reassigning a series from one occurrence onwards does.

Read-only, like app.services.queries.action_previews.
"""

from __future__ import annotations

from app.extensions import db
from app.localtime import format_datetime, format_time
from app.models import Booking, Client, Org, Sitter
from app.services.automations.runs import confirmation_was_sent
from app.services.bookings.series import Occurrence, SeriesEditPlan, clashes, series_from
from app.services.people.time_off import away_days, format_days
from app.services.queries.action_previews import ActionPreview
from app.services.queries.clash_lines import clash_lines


def _span(occurrence: Occurrence, tz: str) -> str:
    return f"{format_datetime(occurrence.start_at, tz)} – {format_time(occurrence.end_at, tz)}"


def preview_new_series(org_id: int, client_id: int, sitter_id: int | None,
                       planned: list[Occurrence]) -> ActionPreview:
    """Every visit the rule makes, each with the sitter's other visits it overlaps."""
    org = db.session.get(Org, org_id)
    client = db.session.get(Client, client_id)
    sitter = db.session.get(Sitter, sitter_id) if sitter_id else None
    found = clashes(org_id, sitter_id, planned)
    by_occurrence: dict[Occurrence, list] = {}
    for clash in found:
        by_occurrence.setdefault(clash.occurrence, []).append(clash.booking)
    preview = ActionPreview(f"Create {len(planned)} bookings for {client.name}?",
                            f"Yes, create {len(planned)} bookings")
    preview.lines.append(f"Each visit is its own pending booking ({sitter.name if sitter else 'no sitter yet'}): "
                         "it is confirmed, paid and texted on its own; nothing is texted now.")
    if found:
        preview.lines.append(f"{len(by_occurrence)} of these visits clash with {sitter.name}'s other visits.")
    away = away_days(sitter_id, [(o.start_at, o.end_at) for o in planned], org.timezone)
    if any(away):
        preview.lines.append(f"Warning: {sitter.name} is away (time off) for {sum(map(bool, away))} of these visits "
                             "(marked below). You can still create them; change the sitter of those later.")
    for occurrence, days in zip(planned, away, strict=True):
        line = _span(occurrence, org.timezone)
        for other in by_occurrence.get(occurrence, []):
            line += (f" — clashes with {sitter.name}'s booking #{other.id} ({other.client.name}, "
                     f"{format_datetime(other.start_at, org.timezone)} – {format_time(other.end_at, org.timezone)})")
        if days:
            line += f" — {sitter.name} is away (time off) on {format_days(days)}"
        preview.lines.append(line)
    return preview


def _listed(bookings, tz: str) -> str:
    return ", ".join(f"#{b.id} ({format_datetime(b.start_at, tz)})" for b in bookings)


def preview_cancel_series(booking_id: int, reason: str) -> ActionPreview:
    bookings = series_from(booking_id)
    if not bookings:
        preview = ActionPreview("Cancel the series from here?", "Cancel")
        preview.refused = "There is nothing left to cancel from this visit on."
        return preview
    org = db.session.get(Org, bookings[0].org_id)
    client = bookings[0].client
    preview = ActionPreview(f"Cancel {len(bookings)} bookings from this visit on?",
                            f"Yes, cancel {len(bookings)} bookings", danger=True)
    preview.lines.append(f"This cancels for good (reason: “{reason}”): {_listed(bookings, org.timezone)}; "
                         "it cannot be undone.")
    told = [b for b in bookings if confirmation_was_sent(b.id)]
    if told:
        preview.lines.append(f"{client.name} got a confirmation for {len(told)} of them, so they are texted a "
                             f"cancellation for each of those (unless they replied STOP).")
    else:
        preview.lines.append(f"{client.name} never got a confirmation for these, so they are not texted.")
    return preview


def preview_change_sitter_series(booking_id: int, sitter_id: int | None) -> ActionPreview | None:
    """None when every occurrence from here already has that sitter."""
    bookings = [b for b in series_from(booking_id) if b.sitter_id != sitter_id]
    if not bookings:
        return None
    org = db.session.get(Org, bookings[0].org_id)
    new = db.session.get(Sitter, sitter_id) if sitter_id else None
    preview = ActionPreview(f"Change the sitter of {len(bookings)} bookings from this visit on?",
                            "Yes, change the sitter")
    preview.lines.append(f"This gives {_listed(bookings, org.timezone)} to {new.name if new else 'no sitter'}.")
    confirmed = [b for b in bookings if b.status == "confirmed"]
    if confirmed:
        preview.lines.append(f"{bookings[0].client.name} is texted that their sitter changed for each of the "
                             f"{len(confirmed)} confirmed ones (unless they replied STOP); the previous sitter can "
                             "no longer read or send in those conversations.")
    else:
        preview.lines.append("No text is sent: none of them is confirmed yet.")
    if new is not None:
        found = clashes(org.id, new.id, [Occurrence(b.start_at, b.end_at) for b in bookings],
                        ignore_series=bookings[0].series_id)
        for clash in found:
            preview.lines.append(f"{format_datetime(clash.occurrence.start_at, org.timezone)} clashes with "
                                 f"{new.name}'s booking #{clash.booking.id} ({clash.booking.client.name}).")
        away = away_days(new.id, [(b.start_at, b.end_at) for b in bookings], org.timezone)
        for booking, days in zip(bookings, away, strict=True):
            if days:
                preview.lines.append(f"Warning: {new.name} is away (time off) on {format_days(days)}: booking "
                                     f"#{booking.id} ({format_datetime(booking.start_at, org.timezone)}).")
    return preview


def _money(cents: int, currency: str) -> str:
    return f"{cents / 100:.2f} {currency.upper()}"


def preview_edit_series(booking_id: int, plan: SeriesEditPlan) -> ActionPreview | None:
    """Each occurrence's times and price before and after, what a confirmed one's move does (a
    reschedule's rules), the started and paid ones left as they are, clashes and time off.
    None when nothing would change."""
    changing = [e for e in plan.edits if e.changes]
    if not changing:
        return None
    first = db.session.get(Booking, booking_id)
    org = db.session.get(Org, first.org_id)
    tz, currency = org.timezone, first.currency
    preview = ActionPreview(f"Change {len(changing)} bookings from this visit on?",
                            f"Yes, change {len(changing)} bookings")
    for edit in changing:
        parts = []
        if edit.times_change:
            parts.append(f"{format_time(edit.start_at, tz)} – {format_time(edit.end_at, tz)} → "
                         f"{format_time(edit.new_start_at, tz)} – {format_time(edit.new_end_at, tz)}")
        if edit.price_changes:
            parts.append(f"{_money(edit.price_cents, currency)} → {_money(edit.new_price_cents, currency)}")
        elif edit.paid:
            parts.append(f"paid: keeps its price of {_money(edit.price_cents, currency)}")
        preview.lines.append(f"#{edit.booking_id} ({format_datetime(edit.start_at, tz)}, {edit.status}): "
                             + "; ".join(parts))
    moved = [e for e in changing if e.times_change and e.status == "confirmed"]
    if moved:
        preview.lines.append(f"{len(moved)} of them are confirmed: each moves as a reschedule does (its conversation "
                             "window and scheduled texts follow the new times and its sitter is notified); the "
                             "client is not texted about the new time.")
    else:
        preview.lines.append("None of them is confirmed, so nobody is texted.")
    for booking in plan.started:
        preview.lines.append(f"#{booking.id} ({format_datetime(booking.start_at, tz)}) has already started: "
                             "it stays as it is.")
    preview.lines.extend(clash_lines(org, [e for e in changing if e.times_change], first.series_id))
    return preview

