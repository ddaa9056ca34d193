"""Today's visit card, kept on the sitter's phone so it reads with no signal (issue 29, point 4).

The card is what a sitter needs at the door: the client's first name, the pets, the address,
the entry/feeding/medication notes and the office's phone. It exists only under the care-notes
rule (the assigned sitter of a confirmed booking, from the org's lead time before the window
until the window ends) and is built from the same read model as the thread page
(`sitter_care_notes`, `sitter_address`): the same redaction, the same audit line, never the
client's own number. It carries its expiry (the window's end); the service worker drops it then.
No message body is ever part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.clock import utcnow
from app.errors import NotFound
from app.extensions import db
from app.localtime import format_datetime, format_time
from app.models import AssignmentWindow, Booking, Org, Sitter
from app.privacy import redact_for_sitter
from app.services.messaging.sitter_messages import sitter_for_user
from app.services.people.care_notes import CareNoteItem, sitter_care_notes
from app.services.people.phones import national_format
from app.services.people.visit_address import maps_url, sitter_address

NOT_FOUND = "We could not find that visit."


@dataclass(frozen=True)
class OfflineCard:
    booking_id: int
    thread_id: int
    client_first_name: str
    pets: str
    address: str
    starts_at: datetime  # the visit's start and end
    ends_at: datetime
    expires_at: datetime  # the window's end: the card is deleted from the phone then
    notes: list[CareNoteItem]
    office_phone: str  # the business's own phone (never the client's), "" when none is set
    when: str  # "Wed Nov 25, 9:00 AM–10:00 AM" in the org's time zone
    read_at: datetime  # the server's now: the phone counts the expiry from it (its own clock may be off)

    def as_json(self) -> dict:
        def iso(moment: datetime) -> str:
            return moment.isoformat().replace("+00:00", "Z")

        return {
            "booking_id": self.booking_id,
            "client_first_name": self.client_first_name,
            "pets": self.pets,
            "address": self.address,
            "maps_url": maps_url(self.address),
            "starts_at": iso(self.starts_at),
            "ends_at": iso(self.ends_at),
            "expires_at": iso(self.expires_at),
            # Seconds left as the server counts them: the worker adds them to the phone's clock.
            "expires_in": max(0, int((self.expires_at - self.read_at).total_seconds())),
            "when": self.when,
            "notes": [{"kind": n.kind_label, "pet": n.pet_name, "body": n.body} for n in self.notes],
            "office_phone": self.office_phone,
            "office_phone_href": "tel:" + "".join(c for c in self.office_phone if c.isdigit() or c == "+")
            if self.office_phone else "",
        }


def _own_window(sitter, booking_id: int) -> AssignmentWindow | None:
    return db.session.scalar(select(AssignmentWindow).where(
        AssignmentWindow.booking_id == booking_id, AssignmentWindow.sitter_id == sitter.id,
        AssignmentWindow.org_id == sitter.org_id))


def offline_card(user_id: int, booking_id: int, now: datetime | None = None) -> OfflineCard:
    """The card of this sitter's visit now; NotFound outside the care-notes span and for anyone
    else (another sitter, a reassigned or cancelled visit, another org). Commits (the audit line)."""
    now = now or utcnow()
    sitter = sitter_for_user(user_id)
    window = _own_window(sitter, booking_id)
    if window is None:
        db.session.commit()
        raise NotFound(NOT_FOUND)
    care = sitter_care_notes(user_id, window.thread_id, now)  # the rule, the redaction, the audit
    if not care.visible:
        raise NotFound(NOT_FOUND)
    booking, org = window.booking, db.session.get(Org, sitter.org_id)
    client = booking.client
    office = org.office_phone_e164 if org.office_phone_e164 and org.office_phone_e164 != client.phone_e164 else ""
    return OfflineCard(
        booking_id=booking.id, thread_id=window.thread_id,
        client_first_name=redact_for_sitter(client.first_name), pets=redact_for_sitter(client.pet_names),
        address=sitter_address(window, booking, org, sitter.id, now),
        starts_at=booking.start_at, ends_at=booking.end_at, expires_at=window.ends_at,
        notes=care.notes, office_phone=national_format(office) if office else "",
        when=f"{format_datetime(booking.start_at, org.timezone)}–{format_time(booking.end_at, org.timezone)}",
        read_at=now)


def offline_card_ids(user_id: int, now: datetime | None = None, sitter: Sitter | None = None) -> list[int]:
    """The visits whose card the phone should hold now (the same span as `offline_card`): the
    dashboard lists them, and the service worker drops every other card it holds."""
    now = now or utcnow()
    sitter = sitter or sitter_for_user(user_id)
    org = db.session.get(Org, sitter.org_id)
    lead = timedelta(minutes=org.care_notes_lead_minutes)
    return list(db.session.scalars(
        select(AssignmentWindow.booking_id)
        .join(Booking, Booking.id == AssignmentWindow.booking_id)
        .where(AssignmentWindow.sitter_id == sitter.id, AssignmentWindow.org_id == sitter.org_id,
               AssignmentWindow.ends_at > now, AssignmentWindow.starts_at <= now + lead,
               Booking.status == "confirmed")
        .order_by(AssignmentWindow.starts_at, AssignmentWindow.booking_id)))
