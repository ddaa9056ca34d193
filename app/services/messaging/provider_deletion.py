"""Deleting the SMS provider's copies of texts and media (erase, retention, inbound photos once stored).

Each sid to delete is a ProviderDeletion row (the database is the truth); its job asks the
provider through its SDK (`client.messages(sid).delete()` for Twilio). A transient failure is
retried with backoff; one that cannot succeed, or keeps failing, ends `failed` with an owner
alert, and the client page shows how many copies are deleted, waiting or failed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from app.adapters.sms import PermanentSendError, TransientSendError
from app.adapters.sms_choice import get_provider
from app.clock import utcnow
from app.extensions import db
from app.jobs.queue import enqueue
from app.jobs.specs import JOBS
from app.models import MessageMedia, ProviderDeletion
from app.persistence.locking import lock_row
from app.services.audit.events import raise_alert, record_event

log = logging.getLogger(__name__)

DELETION_FAILED = "provider.deletion_failed"
# Longer than the whole retry schedule: a pending row this old has no job any more.
RESUME_AFTER = timedelta(hours=1)


def enqueue_deletion(deletion_id: int) -> None:
    enqueue(JOBS.delete_provider_copy, deletion_id)


def request_provider_deletions(org_id: int, client_id: int | None, sids: list[str]) -> int:
    """One pending row per sid not already asked for, each with its job (after the caller
    commits). Returns how many were added."""
    if not sids:
        return 0
    known = set(db.session.scalars(select(ProviderDeletion.provider_sid)
                                   .where(ProviderDeletion.provider_sid.in_(sids))))
    rows = [ProviderDeletion(org_id=org_id, client_id=client_id, provider_sid=sid, status="pending",
                             attempts=0) for sid in sids if sid not in known]
    db.session.add_all(rows)
    db.session.flush()
    for row in rows:
        enqueue_deletion(row.id)
    return len(rows)


# https://api.twilio.com/2010-04-01/Accounts/AC…/Messages/MM…/Media/ME…
_MEDIA_URL = re.compile(r"/Messages/(?P<message>[A-Z]{2}[0-9a-f]{32})/Media/(?P<media>ME[0-9a-f]{32})")


def request_media_deletion(org_id: int, media_id: int) -> bool:
    """An inbound photo is stored with us: ask Twilio to delete its copy (caller commits)."""
    source = db.session.scalar(select(MessageMedia.source_url).where(MessageMedia.id == media_id))
    found = _MEDIA_URL.search(source or "")
    if found is None:
        return False
    return request_provider_deletions(org_id, None, [f"{found['message']}/{found['media']}"]) == 1


def delete_provider_copy(deletion_id: int) -> str:
    """The job: one try at deleting the provider's copy; returns the row's status."""
    row = lock_row(ProviderDeletion, deletion_id)
    if row is None or row.status != "pending":
        db.session.commit()
        return "missing" if row is None else row.status
    row.attempts += 1
    try:
        message_sid, _, media_sid = row.provider_sid.partition("/")
        if media_sid:
            get_provider().delete_media(message_sid, media_sid)
        else:
            get_provider().delete_message(message_sid)
    except PermanentSendError as exc:
        return _fail(row, str(exc))
    except TransientSendError as exc:
        if row.attempts > JOBS.delete_provider_copy.retry.max:
            return _fail(row, f"{exc} (gave up after {row.attempts} tries)")
        row.error = f"Try {row.attempts} failed: {exc}"[:300]
        db.session.commit()
        log.warning("provider deletion %s: try %d failed (%s); retried", deletion_id, row.attempts, exc.code)
        raise
    row.status, row.done_at, row.error = "deleted", utcnow(), None
    db.session.commit()
    return row.status


def resume_pending_deletions() -> int:
    """Periodic: pending rows untouched for a while lost their job (Redis flushed): enqueue again."""
    stale = utcnow() - RESUME_AFTER
    ids = list(db.session.scalars(select(ProviderDeletion.id).where(
        ProviderDeletion.status == "pending", ProviderDeletion.updated_at < stale).order_by(ProviderDeletion.id)
        .limit(500)))
    db.session.commit()
    for deletion_id in ids:
        enqueue_deletion(deletion_id)
    return len(ids)


def retry_failed_deletions(client_id: int) -> int:
    """An owner asks again for the failed ones of a client (the button on the client page)."""
    rows = db.session.scalars(select(ProviderDeletion).where(ProviderDeletion.client_id == client_id,
                                                             ProviderDeletion.status == "failed")).all()
    for row in rows:
        row.status, row.attempts, row.error = "pending", 0, None
        enqueue_deletion(row.id)
    db.session.commit()
    return len(rows)


def _fail(row: ProviderDeletion, reason: str) -> str:
    row.status, row.error = "failed", reason[:300]
    record_event(row.org_id, DELETION_FAILED, actor="system", deletion_id=row.id, reason=row.error)
    raise_alert(row.org_id, DELETION_FAILED,
                f"The SMS provider did not delete its copy of a text ({row.provider_sid}) of an erased "
                f"client: {row.error}. Retry it from the client's page.")
    db.session.commit()
    log.warning("provider deletion %s failed: %s", row.id, row.error)
    return row.status


@dataclass(frozen=True)
class DeletionCounts:
    deleted: int = 0
    pending: int = 0
    failed: int = 0
    last_error: str | None = None


def deletion_counts(client_id: int) -> DeletionCounts:
    counts = dict(db.session.execute(select(ProviderDeletion.status, func.count())
                                     .where(ProviderDeletion.client_id == client_id)
                                     .group_by(ProviderDeletion.status)).all())
    error = db.session.scalar(select(ProviderDeletion.error).where(
        ProviderDeletion.client_id == client_id, ProviderDeletion.error.is_not(None))
        .order_by(ProviderDeletion.id.desc()).limit(1))
    return DeletionCounts(counts.get("deleted", 0), counts.get("pending", 0), counts.get("failed", 0), error)
