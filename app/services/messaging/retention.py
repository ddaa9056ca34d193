"""Retention: message bodies and media of finished bookings go after the org's retention period.

A periodic job (`app.jobs.purge_expired_messages`, each worker's maintenance step) blanks the
bodies and deletes the media (files and rows) of the texts in the threads of bookings that ended
(completed or cancelled) more than `Org.retention_days` ago (default two years), and asks the SMS
provider to delete its copies. The consent ledger is not touched (it is kept at least 4 years).
Safe to run any number of times: a purged text has an empty body and no media.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from app.adapters.media_store import delete_quietly, get_media_store
from app.clock import utcnow
from app.extensions import db
from app.models import Booking, Message, MessageMedia, Org, OutboxEntry, Thread
from app.services.audit.events import record_event
from app.services.messaging.provider_deletion import request_provider_deletions

log = logging.getLogger(__name__)

FINISHED = ("completed", "cancelled")
BATCH = 500


def purge_expired_messages() -> int:
    """Purge every org's expired texts; returns how many texts were purged."""
    total = 0
    for org_id, days in db.session.execute(select(Org.id, Org.retention_days)).all():
        total += purge_org(org_id, days)
    return total


def _expired_message_ids(org_id: int, days: int) -> list[int]:
    cutoff = utcnow() - timedelta(days=days)
    expired_threads = (select(Thread.id).join(Booking, Booking.id == Thread.booking_id)
                       .where(Thread.org_id == org_id, Booking.status.in_(FINISHED), Booking.end_at < cutoff))
    has_media = select(MessageMedia.id).where(MessageMedia.message_id == Message.id).exists()
    return list(db.session.scalars(
        select(Message.id).where(Message.org_id == org_id, Message.thread_id.in_(expired_threads),
                                 or_(Message.body != "", has_media))
        .order_by(Message.id).limit(BATCH)))


def purge_org(org_id: int, days: int) -> int:
    purged = 0
    while ids := _expired_message_ids(org_id, days):
        items = db.session.scalars(select(MessageMedia).where(MessageMedia.message_id.in_(ids))).all()
        keys = [k for i in items for k in (i.storage_key, i.thumb_key) if k]
        sids = [s for s in db.session.scalars(select(Message.provider_sid).where(Message.id.in_(ids))) if s]
        db.session.execute(delete(MessageMedia).where(MessageMedia.message_id.in_(ids)))
        db.session.execute(delete(OutboxEntry).where(OutboxEntry.message_id.in_(ids)))
        db.session.execute(update(Message).where(Message.id.in_(ids)).values(body=""))
        request_provider_deletions(org_id, None, sids)
        record_event(org_id, "messages.purged", actor="system", messages=len(ids), media=len(items),
                     retention_days=days)
        db.session.commit()
        delete_quietly(get_media_store(), keys)  # after the commit: a rollback keeps files and rows together
        purged += len(ids)
    if purged:
        log.info("retention: org %s: %d texts purged (older than %d days)", org_id, purged, days)
    return purged
