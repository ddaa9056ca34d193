"""Care notes (entry, feeding, medication): owners write them; the assigned sitter reads them
only around the visit, from the org's lead time before the window opens until it closes.

The window check is here, on the server, for every read; each read a sitter makes is audited
(`care_notes.viewed`). Sitter-facing text goes through `sitter_text` (app.privacy's
redact_for_sitter, the one redaction for everything a sitter is shown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from app.clock import utcnow
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.localtime import format_datetime
from app.models import CARE_NOTE_KINDS, CareNote, Client, EventLog, Pet
from app.privacy import redact_for_sitter
from app.services.audit.events import record_event
from app.services.messaging.office_texts import checked_text
from app.services.messaging.sitter_messages import assigned_thread
from app.services.people.pet_profiles import SitterPetProfile, sitter_pet_profiles

MAX_NOTE = 2000
KIND_LABELS = {"entry": "Entry and keys", "feeding": "Feeding", "medication": "Medication"}


def sitter_text(text: str | None, *, client_numbers: list[str | None] | None = None) -> str:
    """Every care-note and schedule text a sitter sees passes here: the app's one sitter
    redaction (phone numbers and e-mail addresses). With `client_numbers` (a care note the office
    wrote): only the client's own numbers are hidden; the vet's or a neighbour's stay."""
    return redact_for_sitter(text, client_numbers=client_numbers)


# --- owners ------------------------------------------------------------------------

def notes_for_client(client_id: int) -> list[CareNote]:
    return list(db.session.scalars(
        select(CareNote).where(CareNote.client_id == client_id)
        .order_by(CareNote.kind, CareNote.pet_id.is_not(None), CareNote.id)
    ))


def save_care_note(client_id: int, *, kind: str, body: str, pet_id: int | None = None, note_id: int | None = None,
                   user_id: int) -> CareNote:
    """Add a note (or replace the text of `note_id`); InvalidInput names the field. Commits."""
    client = db.session.get(Client, client_id)
    if kind not in CARE_NOTE_KINDS:
        raise InvalidInput("Choose entry, feeding or medication.", field="kind")
    body = checked_text(body, limit=MAX_NOTE, empty="Write the instruction.")
    if pet_id:
        pet = db.session.get(Pet, pet_id)
        if pet is None or pet.client_id != client.id:
            raise InvalidInput("Choose one of this client's pets.", field="pet_id")
    note = None
    if note_id:
        note = db.session.get(CareNote, note_id)
        if note is None or note.client_id != client.id:
            raise NotFound("That note is gone.")
    if note is None:
        note = CareNote(org_id=client.org_id, client_id=client.id)
        db.session.add(note)
    note.kind, note.body, note.pet_id, note.updated_by_user_id = kind, body, pet_id or None, user_id
    db.session.flush()
    record_event(client.org_id, "care_note.saved", actor=f"user:{user_id}", client_id=client.id,
                 note_id=note.id, note_kind=kind, pet_id=note.pet_id)
    db.session.commit()
    return note


def remove_care_note(note_id: int, user_id: int) -> None:
    note = db.session.get(CareNote, note_id)
    record_event(note.org_id, "care_note.removed", actor=f"user:{user_id}", client_id=note.client_id,
                 note_id=note.id, note_kind=note.kind)
    db.session.delete(note)
    db.session.commit()


# --- the assigned sitter -------------------------------------------------------------

@dataclass(frozen=True)
class CareNoteItem:
    kind_label: str
    pet_name: str  # "" for the whole household
    body: str


@dataclass(frozen=True)
class SitterCareNotes:
    visible: bool
    text: str  # why they are hidden, or since when they show
    notes: list[CareNoteItem]
    pets: list[SitterPetProfile] = field(default_factory=list)  # pet profiles, under the same rule


def care_notes_open(window, booking, sitter_id: int, lead_minutes: int, now: datetime) -> bool:
    """The rule: this sitter's window of a confirmed booking, from `lead_minutes` before it opens until it ends."""
    return (booking.status == "confirmed" and window.sitter_id == sitter_id
            and window.starts_at - timedelta(minutes=lead_minutes) <= now < window.ends_at)


def _read_recorded(org_id: int, booking_id: int, sitter_id: int) -> bool:
    """This sitter's read of this visit's care notes is already in the audit log."""
    return db.session.scalar(select(EventLog.id).where(
        EventLog.org_id == org_id, EventLog.booking_id == booking_id, EventLog.kind == "care_notes.viewed",
        EventLog.sitter_id == sitter_id).limit(1)) is not None


def sitter_care_notes(user_id: int, thread_id: int, now: datetime | None = None) -> SitterCareNotes:
    """The care notes of the thread's client for its assigned sitter, if the visit is near or on;
    NotFound when the thread is not theirs. A read that shows notes is audited. Commits."""
    now = now or utcnow()
    found = assigned_thread(user_id, thread_id)
    window, booking, org = found.window, found.window.booking, found.org
    lead = org.care_notes_lead_minutes
    opens_at = window.starts_at - timedelta(minutes=lead)
    if not care_notes_open(window, booking, found.sitter.id, lead, now):
        if booking.status == "cancelled":
            why = "Care notes are hidden: this visit was cancelled."
        elif booking.status == "completed" or now >= window.ends_at:
            why = "Care notes are hidden: this visit is over."
        elif booking.status != "confirmed":
            why = "Care notes show once the booking is confirmed."
        elif now < opens_at:
            why = f"Care notes show from {format_datetime(opens_at, org.timezone)}, before your visit."
        else:
            why = "Care notes are hidden: this visit is over."
        db.session.commit()
        return SitterCareNotes(False, why, [])
    notes = notes_for_client(booking.client_id)
    if not _read_recorded(org.id, booking.id, found.sitter.id):  # one line per visit, not per page view
        record_event(org.id, "care_notes.viewed", booking_id=booking.id, thread_id=thread_id,
                     sitter_id=found.sitter.id, actor=f"user:{user_id}", client_id=booking.client_id,
                     notes=len(notes))
    db.session.commit()
    own = [booking.client.phone_e164]
    items = [CareNoteItem(KIND_LABELS[n.kind], sitter_text(n.pet.name) if n.pet else "",
                          sitter_text(n.body, client_numbers=own))
             for n in notes]
    return SitterCareNotes(True, f"Shown until {format_datetime(window.ends_at, org.timezone)}.", items,
                           sitter_pet_profiles(booking.client_id))
