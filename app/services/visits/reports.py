"""The visit report: after check-in, the sitter ticks the service's checklist, writes a note and adds
up to 5 photos. The first submission is stored on the booking and texted to the client once from the
thread's number (photos as MMS, the note under the content policy like every sitter text);
a resubmission edits the stored report and texts nothing.

This is the only way a visit report reaches a client (the compose box only links here), so every
`visit.report_sent` event has its VisitReport row. Photos go through app.services.media.outbound.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.clock import utcnow
from app.errors import InvalidInput
from app.extensions import db
from app.models import Booking, Org, Sitter, Thread
from app.models.visits import VisitCheck, VisitReport
from app.services.audit.events import raise_alert, record_event
from app.services.media.outbound import Upload, attach_photos, prepare_uploads, stored_photos
from app.services.messaging.content_policy import check_sitter_message
from app.services.messaging.outbound import queue_outbound_message
from app.services.messaging.sitter_messages import PolicyBlocked
from app.services.visits.checklists import checklist_for
from app.services.visits.checks import CheckRefused, assigned_booking, visit_span

VISIT_REPORT_PREFIX = "Visit report: "
MAX_NOTE = 1000
MAX_PHOTOS = 5


@dataclass(frozen=True)
class ReportOutcome:
    booking_id: int
    created: bool  # False: an edit of the stored report (nothing texted)
    message_id: int | None
    status: str  # the text's status (queued, blocked, …), "edited", or "not_texted"
    flagged: bool
    notice: str


def report_text(checklist: list[str], note: str) -> str:
    """What the client receives: 'Visit report: Done: Fed, Walk. <note>'."""
    parts = []
    if checklist:
        parts.append("Done: " + ", ".join(checklist) + ".")
    if note:
        parts.append(note)
    return VISIT_REPORT_PREFIX + " ".join(parts) if parts else VISIT_REPORT_PREFIX.rstrip(": ")


def _clean_note(note: str | None) -> str:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"The note is {len(text)} characters; keep it under {MAX_NOTE}.", field="note")
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text):
        raise InvalidInput("The note holds characters that cannot be texted.", field="note")
    return text


def _clean_checklist(org_id: int, service: str, ticked: list[str] | None) -> list[str]:
    allowed = checklist_for(org_id, service)
    chosen = {item for item in (ticked or []) if item}
    unknown = chosen - set(allowed)
    if unknown:
        raise InvalidInput("That checklist item is not on this service's list; reload the page.", field="checklist")
    return [item for item in allowed if item in chosen]


def submit_visit_report(sitter_user_id: int, booking_id: int, *, note: str | None,
                        checklist: list[str] | None = None, photos: list[Upload] | None = None) -> ReportOutcome:
    """Store (and the first time, text) the report; edits text nothing. Refusals say why."""
    uploads = [u for u in (photos or []) if u.data]
    if len(uploads) > MAX_PHOTOS:
        raise InvalidInput(f"Attach at most {MAX_PHOTOS} photos to a visit report (you chose {len(uploads)}).",
                           field="photos")
    prepared = prepare_uploads(uploads)  # CPU work before the booking's row lock is taken
    booking, sitter, org = assigned_booking(sitter_user_id, booking_id)
    try:
        note_text = _clean_note(note)
        ticked = _clean_checklist(org.id, booking.service, checklist)
        _refuse_unless_reportable(booking, org)
        report = db.session.scalar(select(VisitReport).where(VisitReport.booking_id == booking.id))
        if report is not None:
            return _edit(report, booking, sitter, note_text, ticked, bool(prepared))
        if not note_text and not ticked and not prepared:
            raise InvalidInput("Tick what you did, write a short note or add a photo first.", field="note")
    except Exception:
        db.session.rollback()
        raise
    return _send_first(booking, sitter, org, note_text, ticked, prepared, sitter_user_id)


def _refuse_unless_reportable(booking: Booking, org: Org) -> None:
    if booking.status == "cancelled":
        raise CheckRefused("This visit was cancelled; there is no report to send.")
    visit = db.session.scalar(select(VisitCheck).where(VisitCheck.booking_id == booking.id))
    if visit is None or visit.checked_in_at is None:
        raise CheckRefused("Check in first: the report opens once you have checked in.")
    if utcnow() >= visit_span(booking, org)[1]:
        raise CheckRefused("This visit's window has ended, so its report can no longer be sent or changed. "
                           "Tell the office instead.")


def _edit(report: VisitReport, booking: Booking, sitter: Sitter, note: str, ticked: list[str],
          has_photos: bool) -> ReportOutcome:
    if has_photos:
        raise InvalidInput("The report's photos were sent with it; send more photos in the conversation.",
                           field="photos")
    changed = (report.note, list(report.checklist)) != (note, ticked)
    if changed:
        report.note, report.checklist, report.edits = note, ticked, report.edits + 1
        record_event(booking.org_id, "visit.report_edited", booking_id=booking.id, sitter_id=sitter.id,
                     actor=f"user:{sitter.user_id}", checklist=ticked, note=note)
    db.session.commit()
    first = booking.client.first_name
    notice = ("Report updated for the office. " if changed else "Nothing changed. ") + \
        f"{first} got the first version only; an edit is not texted again."
    return ReportOutcome(booking.id, False, report.message_id, "edited", report.flagged, notice)


def _send_first(booking: Booking, sitter: Sitter, org: Org, note: str, ticked: list[str], prepared,
                sitter_user_id: int) -> ReportOutcome:
    text = report_text(ticked, note)
    check = check_sitter_message(org, text)
    actor, first = f"user:{sitter_user_id}", booking.client.first_name
    if check.violated:
        outcome = "was not sent" if check.blocked else "was sent and flagged for the office"
        record_event(org.id, "policy.violation", booking_id=booking.id, sitter_id=sitter.id, actor=actor,
                     mode=check.mode, kinds=list(check.kinds), services=list(check.services), body=text,
                     visit_report=True)
        raise_alert(org.id, "policy.violation",
                    f"Your visit report to {first} {outcome}: it included {check.found_text}.",
                    sitter_id=sitter.id, booking_id=booking.id)
    if check.blocked:
        db.session.commit()
        raise PolicyBlocked(f"Not sent: your note includes {check.found_text}. Keep contact and payment "
                            "details out of reports; edit it and send again.")
    thread = db.session.scalar(select(Thread).where(Thread.booking_id == booking.id,
                                                    Thread.scope == "client_booking"))
    report = VisitReport(org_id=org.id, booking_id=booking.id, sitter_id=sitter.id, note=note, checklist=ticked,
                         photo_count=len(prepared), flagged=check.flagged, created_at=utcnow())
    db.session.add(report)
    if thread is None or thread.message_number_id is None:
        # No conversation number yet: nothing can be texted; the office sees the report on the booking.
        report.photo_count = 0
        record_event(org.id, "visit.report_saved", booking_id=booking.id, sitter_id=sitter.id, actor=actor,
                     reason="no conversation number")
        db.session.commit()
        return ReportOutcome(booking.id, True, None, "not_texted", check.flagged,
                             f"Report saved for the office, but not texted: {first}'s conversation has no "
                             "number yet." + (" Photos were not kept." if prepared else ""))
    with stored_photos(org.id, prepared) as stored:
        message = queue_outbound_message(org_id=org.id, thread_id=thread.id,
                                         from_number_id=thread.message_number_id,
                                         to_e164=booking.client.phone_e164, body=text, sender_kind="sitter",
                                         sender_user_id=sitter_user_id)
        attach_photos(org.id, message.id, stored)
        thread.last_message_at = utcnow()
        report.message_id = message.id
        record_event(org.id, "visit.report_sent", actor=actor, thread_id=thread.id, booking_id=booking.id,
                     sitter_id=sitter.id, message_id=message.id, photos=len(stored))
        status = message.status
        db.session.commit()
    return ReportOutcome(booking.id, True, message.id, status, check.flagged, _notice(status, check, first))


def _notice(status: str, check, first: str) -> str:
    if status == "blocked":
        return f"Report saved, but not delivered: {first} has opted out of texts (replied STOP)."
    if check.flagged:
        return f"Report saved and queued to send to {first}, flagged for the office: it included {check.found_text}."
    # Only queued here: its job sends it after this commit. Never say "sent" before it is.
    return f"Report saved and queued to send to {first}."
