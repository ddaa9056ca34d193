"""Late and unfinished visits: one owner alert each, at most once per visit, and a push.

A confirmed visit not checked in `org.visit_late_minutes` (15) after its start raises
`visit.late`; a visit checked in but not checked out an hour after its end raises
`visit.unfinished`. The scan runs every minute (workers and the embedded scheduler) and as
`flask --app app late-visits`; each alert is decided under the booking's row lock and marked
on its VisitCheck row, so overlapping scans raise it once. A check-in, a cancel or a new
sitter resolves the late alert; a check-out resolves the unfinished one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from app.clock import utcnow
from app.extensions import db
from app.localtime import format_time
from app.models import Alert, Booking, Notification, Org, Sitter, Thread
from app.models.visits import VisitCheck
from app.observability.metrics import count_late_visit
from app.persistence.locking import claim_row, lock_row
from app.services.audit.events import raise_alert, record_event
from app.services.notifications.notify import deliver_notification, plan_notification, plan_office_news, push_name
from app.services.ops.counting import count_after_commit

VISIT_ALERT_KINDS = ("visit.late", "visit.unfinished")
UNFINISHED_AFTER = timedelta(hours=1)
# Older visits are history, not something to chase now (and keep each scan small).
LOOKBACK = timedelta(hours=24)
SHORTEST_LATE = timedelta(minutes=1)  # the smallest org setting


@dataclass
class ScanResult:
    late: list[int] = field(default_factory=list)  # booking ids alerted now
    unfinished: list[int] = field(default_factory=list)
    cleared: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {"late": len(self.late), "unfinished": len(self.unfinished), "cleared": self.cleared}


def resolve_visit_alerts(booking_id: int, kinds: tuple[str, ...], now: datetime | None = None) -> int:
    """Resolve the booking's open alerts of these kinds (in the caller's transaction)."""
    result = db.session.execute(
        update(Alert).where(Alert.booking_id == booking_id, Alert.kind.in_(kinds), Alert.resolved_at.is_(None))
        .values(resolved_at=now or utcnow()).execution_options(synchronize_session=False))
    return result.rowcount or 0


def clear_late_alert(booking_id: int, reason: str) -> None:
    """A cancel or a new sitter: the late alert no longer asks anything of anyone (caller commits)."""
    if resolve_visit_alerts(booking_id, ("visit.late",)):
        record_event(db.session.get(Booking, booking_id).org_id, "visit.late_cleared", booking_id=booking_id,
                     reason=reason)


def scan_late_visits(now: datetime | None = None) -> ScanResult:
    """Raise every due `visit.late` and `visit.unfinished` alert once; clear stale late ones."""
    now = now or utcnow()
    result = ScanResult()
    result.cleared = _clear_stale(now)
    late_ids = db.session.scalars(
        select(Booking.id).outerjoin(VisitCheck, VisitCheck.booking_id == Booking.id)
        .where(Booking.status == "confirmed", Booking.start_at <= now - SHORTEST_LATE,
               Booking.start_at > now - LOOKBACK, VisitCheck.checked_in_at.is_(None),
               VisitCheck.late_alerted_at.is_(None))
        .order_by(Booking.start_at, Booking.id)).all()
    unfinished_ids = db.session.scalars(
        select(Booking.id).join(VisitCheck, VisitCheck.booking_id == Booking.id)
        .where(Booking.status.in_(("confirmed", "completed")), Booking.end_at <= now - UNFINISHED_AFTER,
               Booking.end_at > now - LOOKBACK - UNFINISHED_AFTER, VisitCheck.checked_in_at.is_not(None),
               VisitCheck.checked_out_at.is_(None), VisitCheck.unfinished_alerted_at.is_(None))
        .order_by(Booking.end_at, Booking.id)).all()
    db.session.commit()  # end the read: each alert below is its own locked transaction
    for booking_id in late_ids:
        if _raise_late(booking_id, now):
            result.late.append(booking_id)
    for booking_id in unfinished_ids:
        if _raise_unfinished(booking_id, now):
            result.unfinished.append(booking_id)
    return result


def _clear_stale(now: datetime) -> int:
    """Safety net for the hooks in check-in, cancel and change of sitter: open late alerts whose
    visit was checked in, cancelled or given to another sitter are resolved."""
    stale = db.session.scalars(
        select(Alert.id).join(Booking, Booking.id == Alert.booking_id)
        .outerjoin(VisitCheck, VisitCheck.booking_id == Booking.id)
        .where(Alert.kind == "visit.late", Alert.resolved_at.is_(None),
               or_(Booking.status == "cancelled", VisitCheck.checked_in_at.is_not(None),
                   and_(VisitCheck.sitter_id.is_not(None), Booking.sitter_id.is_distinct_from(VisitCheck.sitter_id))))
    ).all()
    if stale:
        db.session.execute(update(Alert).where(Alert.id.in_(stale)).values(resolved_at=now)
                           .execution_options(synchronize_session=False))
    db.session.commit()
    return len(stale)


def _raise_late(booking_id: int, now: datetime) -> bool:
    booking = lock_row(Booking, booking_id)
    org = db.session.get(Org, booking.org_id) if booking is not None else None
    visit = db.session.scalar(select(VisitCheck).where(VisitCheck.booking_id == booking_id))
    due = (booking is not None and booking.status == "confirmed"
           and booking.start_at + timedelta(minutes=org.visit_late_minutes) <= now
           and (visit is None or (visit.checked_in_at is None and visit.late_alerted_at is None)))
    if not due:
        db.session.commit()
        return False
    visit = claim_row(VisitCheck, ("booking_id",), touch="booking_id", org_id=booking.org_id, booking_id=booking.id,
                      sitter_id=booking.sitter_id, created_at=now, updated_at=now)
    visit.late_alerted_at, visit.sitter_id = now, booking.sitter_id
    tz, client = org.timezone, booking.client
    sitter = db.session.get(Sitter, booking.sitter_id) if booking.sitter_id else None
    who = f"{client.name}{f' ({client.pet_names})' if client.pet_names else ''}"
    text = (f"Late visit: {who} at {format_time(booking.start_at, tz)} "
            f"{f'with {sitter.name} ' if sitter else '(no sitter assigned) '}"
            f"is not checked in {org.visit_late_minutes} minutes after its start.")
    alert = _raise(booking, "visit.late", text)
    count_after_commit(count_late_visit)  # pawline_late_visits_total, once the alert is committed
    _plan_pushes(alert, booking, sitter, owner_title="Visit not checked in",
                 sitter_title=f"Late: your {format_time(booking.start_at, tz)} visit",
                 sitter_body="You have not checked in. Check in when you arrive, or tell the office.")
    return _commit_and_deliver(alert)


def _raise_unfinished(booking_id: int, now: datetime) -> bool:
    booking = lock_row(Booking, booking_id)
    visit = db.session.scalar(select(VisitCheck).where(VisitCheck.booking_id == booking_id))
    due = (booking is not None and booking.status in ("confirmed", "completed") and visit is not None
           and visit.checked_in_at is not None and visit.checked_out_at is None
           and visit.unfinished_alerted_at is None and booking.end_at + UNFINISHED_AFTER <= now)
    if not due:
        db.session.commit()
        return False
    visit.unfinished_alerted_at = now
    org, client = db.session.get(Org, booking.org_id), booking.client
    sitter = db.session.get(Sitter, visit.sitter_id) if visit.sitter_id else None
    text = (f"Unfinished visit: {client.name} ended at {format_time(booking.end_at, org.timezone)} and "
            f"{sitter.name if sitter else 'the sitter'} checked in but has not checked out.")
    alert = _raise(booking, "visit.unfinished", text)
    _plan_pushes(alert, booking, sitter, owner_title="Visit not checked out",
                 sitter_title="Did you finish your visit?",
                 sitter_body="Check out of it, or tell the office what happened.")
    return _commit_and_deliver(alert)


def _raise(booking: Booking, kind: str, text: str) -> Alert:
    thread_id = db.session.scalar(select(Thread.id).where(Thread.booking_id == booking.id,
                                                           Thread.scope == "client_booking"))
    alert = raise_alert(booking.org_id, kind, text, booking_id=booking.id, thread_id=thread_id)
    record_event(booking.org_id, kind, booking_id=booking.id, thread_id=thread_id, sitter_id=booking.sitter_id,
                 text=text)
    db.session.flush()
    return alert


def _plan_pushes(alert: Alert, booking: Booking, sitter: Sitter | None, *, owner_title: str,
                 sitter_title: str, sitter_body: str) -> None:
    """Notification rows (delivered after the commit): owners and staff who turned notifications on
    (a device opted in for the office's news), and the assigned sitter (no client number or text)."""
    kind = alert.kind.replace(".", "_")
    plan_office_news(booking.org_id, kind, f"{kind}:{booking.id}", owner_title, alert.text,
                     f"/admin/bookings/{booking.id}", thread_id=alert.thread_id, booking_id=booking.id)
    user_id = sitter.user_id if sitter is not None and sitter.active else None
    if user_id is not None:
        client = booking.client
        plan_notification(booking.org_id, user_id, kind, f"{kind}:{booking.id}:{user_id}", sitter_title,
                          f"{push_name(client.first_name, client.pet_names)}: {sitter_body}",
                          f"/sitter/visits/{booking.id}", thread_id=alert.thread_id, booking_id=booking.id)


def _commit_and_deliver(alert: Alert) -> bool:
    booking_id, kind = alert.booking_id, alert.kind.replace(".", "_")
    db.session.commit()
    pending = db.session.scalars(select(Notification.id).where(
        Notification.booking_id == booking_id, Notification.kind == kind, Notification.status == "pending")).all()
    db.session.commit()
    for notification_id in pending:
        deliver_notification(notification_id)  # a lost delivery is retried by reconcile_notifications
    return True
