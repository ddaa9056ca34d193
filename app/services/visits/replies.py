"""A client's reply to a visit report: linked to the report for owners, and an unhappy one raises
one owner alert (`visit.report_concern`) naming the visit.

A reply is a text from the client that routing put on the report's own booking thread (so it
reaches that thread's sitter exactly as any inbound text does, and never another one) after the
report was texted and within the report's reply span: `REPLY_SPAN` (48 hours), or until the
client's next visit starts if that is sooner. Keywords (STOP, START, HELP) are not replies.

Whether a reply reads unhappy is a plain word rule (`app.services.visits.concern_words`): a short
list of phrases, whole words, case and punctuation ignored, not counted after a negation ("no
problem", "not sick at all") or inside thanks ("thank you for cleaning up the vomit"). The concern
alert is also pushed to the owners and staff who turned on the office's notifications (the words
found, never the reply). A happy or neutral reply is linked and raises nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.clock import utcnow
from app.extensions import db
from app.localtime import format_datetime
from app.models import Booking, Message, Org, Sitter
from app.models.visits import VisitReport, VisitReportReply
from app.services.audit.events import raise_alert, record_event
from app.services.notifications.notify import plan_office_news, push_name, queue_deliveries
from app.services.visits.concern_words import concern_phrases_in

REPLY_SPAN = timedelta(hours=48)
CONCERN_KIND = "visit.report_concern"


def reply_span_end(booking: Booking, sent_at: datetime) -> datetime:
    """Until when a client's text counts as a reply to this booking's report."""
    next_start = db.session.scalar(
        select(Booking.start_at).where(Booking.org_id == booking.org_id, Booking.client_id == booking.client_id,
                                       Booking.id != booking.id, Booking.status.in_(("pending", "confirmed")),
                                       Booking.start_at > booking.start_at)
        .order_by(Booking.start_at).limit(1))
    end = sent_at + REPLY_SPAN
    return min(end, next_start) if next_start is not None else end


def link_report_reply(org_id: int, booking_id: int, report_id: int, texted_at: datetime, *, message_id: int,
                      body: str, now: datetime | None = None) -> VisitReportReply | None:
    """Link an inbound client text on the booking's thread to its report (texted at `texted_at`, as
    routing read it) when within the reply span; raise the concern alert once per report. In the
    caller's transaction (routing's): a text with no texted report costs no statement here."""
    now = now or utcnow()
    booking = db.session.get(Booking, booking_id)
    if not texted_at <= now < reply_span_end(booking, texted_at):
        return None
    found = concern_phrases_in(body)
    reply = VisitReportReply(org_id=org_id, report_id=report_id, message_id=message_id, concern=bool(found),
                             concern_words=", ".join(found)[:200], created_at=now)
    db.session.add(reply)
    record_event(org_id, "visit.report_reply", booking_id=booking_id, message_id=message_id, report_id=report_id,
                 concern=bool(found), words=found)
    if found and _claim_concern_alert(report_id, now):
        _raise_concern(booking, db.session.get(VisitReport, report_id), message_id, body, found)
    return reply


def _claim_concern_alert(report_id: int, now: datetime) -> bool:
    """True for the one reply that gets to raise the report's concern alert (a conditional UPDATE:
    two unhappy replies arriving together still raise one)."""
    claimed = db.session.execute(
        update(VisitReport).where(VisitReport.id == report_id, VisitReport.concern_alerted_at.is_(None))
        .values(concern_alerted_at=now).execution_options(synchronize_session=False))
    return bool(claimed.rowcount)


def _raise_concern(booking: Booking, report: VisitReport, message_id: int, body: str, found: list[str]) -> None:
    org = db.session.get(Org, booking.org_id)
    sitter = db.session.get(Sitter, report.sitter_id) if report.sitter_id else None
    quoted = " ".join((body or "").split())
    quoted = quoted if len(quoted) <= 160 else quoted[:159] + "…"
    text = (f"{booking.client.name} sounds unhappy about the visit report for "
            f"{format_datetime(booking.start_at, org.timezone)}"
            f"{f' ({sitter.name})' if sitter else ''}: \u201c{quoted}\u201d")
    thread_id = db.session.scalar(select(Message.thread_id).where(Message.id == message_id))
    raise_alert(org.id, CONCERN_KIND, text, booking_id=booking.id, thread_id=thread_id, message_id=message_id)
    record_event(org.id, CONCERN_KIND, booking_id=booking.id, thread_id=thread_id,
                 sitter_id=report.sitter_id, message_id=message_id, words=found)
    # The push names the concern words, never the reply itself: a lock screen is not private and the
    # client may have typed a phone number.
    client = booking.client
    queue_deliveries(plan_office_news(
        org.id, "visit_concern", f"visit_concern:{report.id}",
        f"Concern from {push_name(client.first_name, client.pet_names)}",
        f"Their reply to the {format_datetime(booking.start_at, org.timezone)} visit report mentions: "
        f"{', '.join(found)}.", f"/admin/bookings/{booking.id}", thread_id=thread_id, booking_id=booking.id))


def replies_to_report(report_id: int) -> list[VisitReportReply]:
    """The report's replies, oldest first (the booking page shows them under the report)."""
    return list(db.session.scalars(select(VisitReportReply).where(VisitReportReply.report_id == report_id)
                                   .order_by(VisitReportReply.created_at, VisitReportReply.id)))
