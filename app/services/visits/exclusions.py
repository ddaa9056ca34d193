""""Don't send this sitter to this client again": an owner's mark on the client, which every
sitter assignment (new booking, pending edit, change of sitter) respects.

Bookings the pair already has and that are not over yet ("upcoming": pending or confirmed, ending
after now) are listed on the confirm step; once marked, each shows "needs a new sitter" on the
booking page, the calendar and Today (derived from the mark, so a new sitter, a cancel or removing
the mark clears it), and one owner alert lists them (resolved when the mark is removed), pushed to
the owners and staff who turned on the office's notifications, never to the marked sitter's own login.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update

from app.clock import utcnow
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.localtime import format_datetime
from app.models import Alert, Booking, Client, Org, Sitter
from app.models.visits import SitterExclusion
from app.persistence.locking import insert_if_absent
from app.services.audit.events import raise_alert, record_event
from app.services.notifications.notify import plan_office_news, push_name, queue_deliveries

REFUSAL = "{sitter} is marked not to be sent to {client} again (see the client's page)."
NEEDS_NEW_SITTER = "visit.needs_new_sitter"
UPCOMING_STATUSES = ("pending", "confirmed")


@dataclass(frozen=True)
class ExclusionOutcome:
    created: bool  # False: the pair was already marked (nothing changed)
    sitter_name: str
    flagged_booking_ids: list[int] = field(default_factory=list)  # upcoming bookings now needing a new sitter


def exclusions_for_client(client_id: int) -> list[SitterExclusion]:
    return list(db.session.scalars(select(SitterExclusion).where(SitterExclusion.client_id == client_id)
                                   .order_by(SitterExclusion.created_at, SitterExclusion.id)))


def excluded_sitter_ids(client_id: int) -> set[int]:
    return set(db.session.scalars(select(SitterExclusion.sitter_id).where(SitterExclusion.client_id == client_id)))


def ensure_sitter_allowed(client_id: int, sitter_id: int | None) -> None:
    """InvalidInput on the sitter field when the owner marked this pair (in the caller's transaction)."""
    if not sitter_id:
        return
    if db.session.scalar(select(SitterExclusion.id).where(SitterExclusion.client_id == client_id,
                                                          SitterExclusion.sitter_id == sitter_id)) is None:
        return
    sitter, client = db.session.get(Sitter, sitter_id), db.session.get(Client, client_id)
    raise InvalidInput(REFUSAL.format(sitter=sitter.name, client=client.name), field="sitter_id")


def pair_upcoming_bookings(client_id: int, sitter_id: int, now: datetime | None = None) -> list[Booking]:
    """The pair's bookings that are not over yet (pending or confirmed, ending after now), soonest first."""
    return list(db.session.scalars(
        select(Booking).where(Booking.client_id == client_id, Booking.sitter_id == sitter_id,
                              Booking.status.in_(UPCOMING_STATUSES), Booking.end_at > (now or utcnow()))
        .order_by(Booking.start_at, Booking.id)).unique())


def needing_new_sitter(bookings, now: datetime | None = None) -> set[int]:
    """Ids of those bookings, not over yet, whose client and sitter are a marked pair (one query)."""
    now = now or utcnow()
    live = [b for b in bookings if b.sitter_id and b.status in UPCOMING_STATUSES and b.end_at > now]
    if not live:
        return set()
    marked = select(SitterExclusion.client_id, SitterExclusion.sitter_id).where(
        SitterExclusion.client_id.in_({b.client_id for b in live}))
    pairs = {tuple(row) for row in db.session.execute(marked)}
    return {b.id for b in live if (b.client_id, b.sitter_id) in pairs}


def describe_booking(booking: Booking, tz: str) -> str:
    return f"#{booking.id} {format_datetime(booking.start_at, tz)} ({booking.service})"


def exclude_sitter(org_id: int, client_id: int, sitter_id: int, *, reason: str = "", user_id: int | None = None,
                   actor: str = "system") -> ExclusionOutcome:
    """Mark the pair (marking twice changes nothing); its upcoming bookings are flagged and alerted."""
    client, sitter = db.session.get(Client, client_id), db.session.get(Sitter, sitter_id)
    if client is None or client.org_id != org_id:
        raise NotFound("Client not found")
    if sitter is None or sitter.org_id != org_id:
        raise InvalidInput("Choose a sitter.", field="sitter_id")
    reason = " ".join((reason or "").split())
    if len(reason) > 200:
        raise InvalidInput("Keep the reason under 200 characters.", field="reason")
    created_id = insert_if_absent(SitterExclusion, ("client_id", "sitter_id"), org_id=org_id, client_id=client_id,
                                  sitter_id=sitter_id, reason=reason, created_by_user_id=user_id, created_at=utcnow())
    upcoming = pair_upcoming_bookings(client_id, sitter_id) if created_id is not None else []
    if created_id is not None:
        record_event(org_id, "client.sitter_excluded", sitter_id=sitter_id, actor=actor, client_id=client_id,
                     reason=reason, upcoming_booking_ids=[b.id for b in upcoming])
    if upcoming:
        _alert_upcoming(db.session.get(SitterExclusion, created_id), client, sitter, upcoming)
    outcome = ExclusionOutcome(created_id is not None, sitter.name, [b.id for b in upcoming])
    db.session.commit()
    return outcome


def _alert_upcoming(row: SitterExclusion, client: Client, sitter: Sitter, upcoming: list[Booking]) -> None:
    """One owner alert listing the pair's upcoming bookings (each now needs a new sitter)."""
    tz = db.session.get(Org, row.org_id).timezone
    listed = "; ".join(describe_booking(b, tz) for b in upcoming)
    text = (f"{sitter.name} is marked not to be sent to {client.name} again, but still has "
            f"{len(upcoming)} upcoming booking{'s' if len(upcoming) != 1 else ''} with them: {listed}. "
            "Choose a new sitter for each.")
    if len(text) > 500:
        text = text[:499] + "…"
    alert = raise_alert(row.org_id, NEEDS_NEW_SITTER, text, booking_id=upcoming[0].id)
    db.session.flush()
    row.alert_id = alert.id
    record_event(row.org_id, NEEDS_NEW_SITTER, booking_id=upcoming[0].id, sitter_id=sitter.id,
                 client_id=client.id, booking_ids=[b.id for b in upcoming])
    one = len(upcoming) == 1
    queue_deliveries(plan_office_news(
        row.org_id, "new_sitter_needed", f"new_sitter_needed:{alert.id}", "New sitter needed",
        f"{sitter.name} is not to be sent to {push_name(client.first_name, client.pet_names)} again: "
        f"{len(upcoming)} upcoming visit{'' if one else 's'} with them need{'s' if one else ''} another sitter.",
        f"/admin/bookings/{upcoming[0].id}" if one else f"/admin/clients/{client.id}",
        booking_id=upcoming[0].id, except_sitter_id=sitter.id))


def remove_exclusion(org_id: int, client_id: int, exclusion_id: int, actor: str = "system") -> None:
    row = db.session.get(SitterExclusion, exclusion_id)
    if row is None or row.org_id != org_id or row.client_id != client_id:
        raise NotFound("We could not find that mark.")
    cleared = needing_new_sitter(pair_upcoming_bookings(client_id, row.sitter_id))
    record_event(org_id, "client.sitter_exclusion_removed", sitter_id=row.sitter_id, actor=actor,
                 client_id=client_id, cleared_booking_ids=sorted(cleared))
    if row.alert_id is not None:  # its bookings no longer need a new sitter
        db.session.execute(update(Alert).where(Alert.id == row.alert_id, Alert.resolved_at.is_(None))
                           .values(resolved_at=utcnow()).execution_options(synchronize_session=False))
    db.session.delete(row)
    db.session.commit()
