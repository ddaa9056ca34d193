"""Outbound texts: a Message row first (queued), then one job that sends it once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, insert, literal_column, or_, select, update
from sqlalchemy.exc import DBAPIError

from app.adapters.sms import (
    PermanentSendError,
    SendError,
    SentLookup,
    TransientSendError,
)
from app.adapters.sms_choice import get_provider
from app.adapters.twilio_sms import OPTED_OUT
from app.clock import utcnow
from app.extensions import db
from app.jobs.queue import STARTED_GRACE, enqueue
from app.jobs.specs import JOBS, MAX_TRIES
from app.jobs.tries import count_try_statement, counted_try, run_counted_try
from app.models import Client, Message, MessageMedia, MessageNumber, Org
from app.observability.metrics import count_provider_call, count_text
from app.services.audit.events import raise_alert, record_event
from app.services.media.outbound import outbound_media_urls
from app.services.messaging.delivery_status import advance_status, alert_failed_message
from app.services.messaging.opt_out import mark_opted_out_by_phone
from app.services.messaging.wording import earlier_text_exists, with_first_text_wording
from app.services.ops.counting import count_after_commit

log = logging.getLogger(__name__)

# A claimed (`sending`) text untouched this long belongs to a job that died: its job's timeout
# plus the grace RQ gives a `started` job (app.jobs.queue.STARTED_GRACE).
SENDING_STUCK_AFTER = timedelta(seconds=JOBS.send_message.timeout + STARTED_GRACE)
# The one text an opted-out client still gets: the confirmation of their opt-out in plain words.
OPT_OUT_CONFIRMATION = "opt_out_confirmation"
_UNREAD = object()


def queue_outbound_message(*, org_id: int, thread_id: int | None, from_number_id: int, to_e164: str,
                           body: str, sender_kind: str, sender_user_id: int | None = None,
                           confirms_opt_out: bool = False, send_key: str | None = None) -> Message:
    """Add a `queued` message to the session and send it after the caller commits.

    A client who has opted out gets nothing: the row is kept as `blocked`
    (reason `opted_out`) so owners can see what was not sent; only the one confirmation of an
    opt-out in their own words (`confirms_opt_out`) still goes. The first text a client ever
    gets from the org names the business and says how to stop (app.services.messaging.wording).
    `send_key` (a compose form's one-time key) is unique per thread: a second row with it fails
    at this flush with an IntegrityError, before anything is queued.
    """
    from_e164 = db.session.scalar(select(MessageNumber.e164).where(MessageNumber.id == from_number_id))
    # One read: whether a client of the org has this number, opted out, and ever got a text from us.
    recipient = db.session.execute(
        select(Client.opted_out, Org.name, earlier_text_exists(org_id, to_e164).label("texted_before"))
        .join(Org, Org.id == Client.org_id).where(_is_recipient(org_id, to_e164))).first()
    opted_out = recipient is not None and recipient.opted_out and not confirms_opt_out
    if recipient is not None and not recipient.texted_before and not opted_out:
        body = with_first_text_wording(recipient.name, body)
    message = Message(org_id=org_id, thread_id=thread_id, direction="outbound", sender_kind=sender_kind,
                      sender_user_id=sender_user_id, body=body, message_number_id=from_number_id,
                      from_e164=from_e164, to_e164=to_e164, status="queued",
                      routing_reason=OPT_OUT_CONFIRMATION if confirms_opt_out else None, send_key=send_key)
    if opted_out:
        _block_opted_out(message)
    db.session.add(message)
    db.session.flush()
    if message.status == "queued":
        enqueue_send(message.id)
    status = message.status
    count_after_commit(lambda: count_text(status))
    return message


# Built once: a message row written with Core (no unit-of-work flush); returns its id.
INSERT_MESSAGE = insert(Message.__table__).returning(Message.__table__.c.id)


def queue_text_to_client(*, org_id: int, thread_id: int | None, from_number_id: int, from_e164: str | None,
                         to_e164: str, body: str, sender_kind: str, business_name: str,
                         texted_before: bool) -> int:
    """`queue_outbound_message` for a caller that has already read the sending number's e164 and
    the recipient (a client of the org who has not opted out, and whether a text has gone to them
    before): one Core INSERT, no ORM object or flush. Returns the message id; sent after commit."""
    if not texted_before:
        body = with_first_text_wording(business_name, body)
    message_id = db.session.execute(INSERT_MESSAGE, dict(
        org_id=org_id, thread_id=thread_id, direction="outbound", sender_kind=sender_kind, body=body,
        message_number_id=from_number_id, from_e164=from_e164, to_e164=to_e164, status="queued")).scalar_one()
    enqueue_send(message_id)
    count_after_commit(lambda: count_text("queued"))
    return message_id


def enqueue_send(message_id: int) -> None:
    """Hand the message's send job to the queue (after the caller commits)."""
    enqueue(JOBS.send_message, message_id)


def _is_recipient(org_id, to_e164):
    """SQL: the client a text to `to_e164` from this org goes to (values or columns)."""
    return and_(Client.org_id == org_id, Client.phone_e164 == to_e164)


def _block_opted_out(message: Message) -> None:
    message.status, message.error_code = "blocked", "opted_out"
    message.error_message = "The client replied STOP; texts resume when they reply START."


def _status_callback_url() -> str | None:
    base = current_app.config.get("PUBLIC_BASE_URL")
    return f"{base}/webhooks/twilio/status" if base else None


def _lock_message(message_id: int) -> tuple[Message | None, bool]:
    """The message, locked, and whether its recipient has opted out (one statement)."""
    query = (
        select(Message, Client.opted_out)
        .outerjoin(Client, _is_recipient(Message.org_id, Message.to_e164))
        .where(Message.id == message_id)
        .with_for_update(of=Message)
    )
    row = db.session.execute(query).first()
    return (row[0], bool(row[1])) if row else (None, False)


_messages = Message.__table__

# The send job's two statements, built once: each job differs only in the parameters.
# The claim: a `queued` message whose recipient has not opted out becomes `sending`, and
# returns what the provider call needs (updated_at: the column's onupdate, as in the ORM).
_CLAIM_QUEUED = (
    update(_messages)
    .where(
        _messages.c.id == bindparam("message_id"),
        _messages.c.status == "queued",
        or_(~select(Client.id).where(_is_recipient(_messages.c.org_id, _messages.c.to_e164),
                                     Client.opted_out).exists(),
            _messages.c.routing_reason == OPT_OUT_CONFIRMATION),
    )
    .values(status="sending", attempts=_messages.c.attempts + 1, error_code=None, error_message=None)
    .returning(_messages.c.tries, _messages.c.id, _messages.c.org_id, _messages.c.from_e164, _messages.c.to_e164,
               _messages.c.body,
               # The org's Messaging Service (10DLC), if any: read with the claim, not after it.
               select(Org.messaging_service_sid).where(Org.id == literal_column("messages.org_id"))
               .scalar_subquery().label("service_sid"),
               # Photos are looked up (and signed) only for a message that has some. RETURNING
               # renders the updated table's columns unqualified, where `id` would mean
               # message_media.id inside the subquery: name messages.id in full.
               select(MessageMedia.id).where(MessageMedia.message_id == literal_column("messages.id"))
               .exists().label("has_media"))
)
_SAVE_SENT = (
    update(_messages)
    .where(_messages.c.id == bindparam("message_id"))
    .values(provider_sid=bindparam("sid"), status=bindparam("new_status"), sent_at=bindparam("now"),
            error_code=None, error_message=None)
)


def _outgoing(row) -> dict:
    """What the provider call needs, from a claimed row or a locked message (which may have photos)."""
    return {"message_id": row.id, "org_id": row.org_id, "from_e164": row.from_e164,
            "to_e164": row.to_e164, "body": row.body, "has_media": getattr(row, "has_media", True),
            "service_sid": getattr(row, "service_sid", _UNREAD)}


def _claim_queued(message_id: int) -> dict | None:
    """The common case in one statement: a `queued` message whose recipient has not opted out
    becomes `sending` (one more attempt), committed before the provider call.

    None when it is anything else (missing, final, `sending` after a crash, opted out), and
    nothing was written: `_claim_after_checks` then decides. On PostgreSQL the UPDATE takes
    the row lock, so a concurrent job for the same message waits, and then finds it no
    longer `queued`.
    """
    row = db.session.execute(_CLAIM_QUEUED, {"message_id": message_id}).first()
    if row is None:
        # The transaction goes on: the careful path locks the row and looks (on SQLite this
        # UPDATE already holds the write lock, so no other writer can come in between).
        return None
    db.session.commit()
    return _outgoing(row)


_COUNT_TRY = count_try_statement(_messages, "tries", ("queued", "sending"))
# The common case counts its try with the claim (one statement, one commit: issue 28); only while
# tries are left, so a message at the bound takes the careful path and gives up there.
_CLAIM_AND_COUNT = (_CLAIM_QUEUED.where(_messages.c.tries < MAX_TRIES)
                    .values(tries=_messages.c.tries + 1))
TOO_MANY_TRIES = "too_many_tries"


def deliver_message(message_id: int) -> str:
    """The send job: one counted try (app.jobs.tries) of `_send_once`.

    A send whose job keeps failing for a reason that is neither the provider nor the template
    (a database bug, a worker killed mid-send) ends `failed` with an owner alert after
    MAX_TRIES tries, instead of being re-enqueued by reconcile for ever. A `queued` message is
    counted and claimed by one statement; anything else is counted first, then looked at."""
    label, give_up = f"message {message_id}", (lambda reason: _give_up(message_id, reason))
    claimed = _claim_and_count(message_id)
    if claimed is not None:
        db.session.commit()  # counted and `sending` before the provider call
        status = run_counted_try(claimed.tries, lambda: _send_once(message_id, _outgoing(claimed)), give_up,
                                 label=label)
    else:
        # Nothing written: the transaction goes on (on SQLite the UPDATE holds the write lock).
        status = counted_try(_COUNT_TRY, message_id, lambda: _send_once(message_id), give_up, label=label)
    if status is None:  # sent, failed or blocked already: never send twice
        status = db.session.scalar(select(Message.status).where(Message.id == message_id)) or "missing"
        db.session.commit()
    return status


def _claim_and_count(message_id: int):
    """The claim with its try counted (a row), or None: nothing written, the careful path decides.

    A claim that raises (a database bug) is not a try counted: it is rolled back and the careful
    path counts the try first, so a job that keeps failing still ends after MAX_TRIES. A lost
    connection (a database restart) is raised: nothing was written, and the queue retries."""
    try:
        return db.session.execute(_CLAIM_AND_COUNT, {"message_id": message_id}).first()
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise
        db.session.rollback()
        log.exception("message %s: the counted claim failed; trying the careful path", message_id)
        return None


def _give_up(message_id: int, reason: str) -> str:
    """After MAX_TRIES: a `queued` message fails (audited, owners alerted). A `sending` one may
    have reached the provider, so it is never failed blind: reconcile's settle step asks the
    provider (sent, `unknown` with an alert, or queued again and then failed here)."""
    message, _opted_out = _lock_message(message_id)
    if message is None or message.status != "queued":
        db.session.commit()
        return "missing" if message is None else message.status
    message.status, message.error_code = "failed", TOO_MANY_TRIES
    message.error_message = f"Not sent: {reason}"[:500]
    alert_failed_message(message, TOO_MANY_TRIES, message.error_message)
    db.session.commit()
    count_text("failed")
    log.error("message %s failed for good: %s", message_id, reason)
    return message.status


def _send_once(message_id: int, outgoing: dict | None = None) -> str:
    """Send one queued message exactly once; returns the message's status afterwards.

    `sending` is committed before the provider call. A job that finds the
    message already `sending` (a crash between the call and the save) asks
    the provider whether it went out before sending again. A transient error
    raises so the queue retries with backoff (JOBS.send_message.retry): the message goes
    back to `queued` when the provider surely did not take it (429), and stays
    `sending` when it might have (timeout, 5xx), so the retry asks first. The
    attempt that uses up the last retry fails the message instead.
    """
    provider = get_provider()
    outgoing = outgoing or _claim_queued(message_id)  # given: claimed (and counted) by the job
    if outgoing is None:
        claimed = _claim_after_checks(provider, message_id)
        if isinstance(claimed, str):
            return claimed
        outgoing = claimed
    media_urls = outbound_media_urls(message_id) if outgoing.pop("has_media") else []
    photos = {"media_urls": media_urls} if media_urls else {}  # providers without photos stay as they are
    service_sid = outgoing.pop("service_sid")
    if service_sid is _UNREAD:  # the careful path (a locked message): one more read
        service_sid = db.session.scalar(select(Org.messaging_service_sid).where(Org.id == outgoing["org_id"]))
    # The org's Messaging Service (10DLC): sent through it, the thread's number pinned as the sender.
    service = {"messaging_service_sid": service_sid} if service_sid else {}
    provider_name = getattr(provider, "name", "other")
    try:
        result = provider.send(**outgoing, **photos, **service, status_callback=_status_callback_url())
    except (PermanentSendError, TransientSendError) as exc:
        count_provider_call(provider_name, "permanent_error" if isinstance(exc, PermanentSendError)
                            else "transient_error")
        # Rare: the ORM from here on. The claim's commit released the row, as before.
        return _send_failed(db.session.get(Message, message_id), exc, send_attempted=True)
    count_provider_call(provider_name, "accepted")
    status = result.status if result.status in ("sent", "delivered") else "sent"
    db.session.execute(_SAVE_SENT, {"message_id": message_id, "sid": result.sid, "new_status": status,
                                    "now": utcnow()})
    db.session.commit()
    count_text(status)
    return status


def _claim_after_checks(provider, message_id: int) -> dict | str:
    """The message locked and checked: what to send, or its status when nothing is sent."""
    message, opted_out = _lock_message(message_id)
    if message is None:
        return "missing"
    if message.status not in ("queued", "sending"):
        db.session.commit()
        return message.status  # already sent, failed or blocked: never send twice
    if message.status == "sending" and message.error_code is None:
        # Claimed by a job that is still sending it, or that died mid-send (a duplicate job:
        # reconcile racing an enqueue, RQ retrying an abandoned job). Never a second send here:
        # left alone while it may be in flight, settled like reconcile does once it is stuck.
        if message.updated_at > utcnow() - SENDING_STUCK_AFTER:
            db.session.commit()
            return message.status
        return _settle_with_provider(provider, message)
    if message.status == "sending":
        # A transient error that may have reached the provider (timeout, 5xx) left it here on
        # purpose (with its code): this retry asks the provider, then sends if it was not.
        try:
            if _recover_sent(provider, message):
                return message.status
        except (PermanentSendError, TransientSendError) as exc:
            return _send_failed(message, exc, send_attempted=False)
    if opted_out and message.routing_reason != OPT_OUT_CONFIRMATION:
        # They replied STOP after this was queued (or between retries): never send it.
        _block_opted_out(message)
        db.session.commit()
        count_text("blocked")
        return message.status
    message.status = "sending"
    message.attempts += 1
    message.error_code = message.error_message = None  # in flight (see the `sending` case above)
    outgoing = _outgoing(message)  # read before the commit expires the row: no second SELECT
    db.session.commit()
    return outgoing


def _send_failed(message: Message, exc: SendError, *, send_attempted: bool) -> str:
    """A permanent error fails the message; a transient one is saved and re-raised so the queue
    retries, unless this was the last attempt. `send_attempted`: the provider call itself failed
    (not the question whether an earlier attempt went out)."""
    if isinstance(exc, PermanentSendError):
        _fail(message, exc)
        return message.status
    if not send_attempted:
        message.attempts += 1  # asking the provider failed: that counts as an attempt too
    if message.attempts >= JOBS.send_message.retry.max + 1:
        _fail(message, exc, final_note=f" (gave up after {message.attempts} attempts)")
        return message.status
    if send_attempted and not exc.maybe_sent:
        message.status = "queued"
    message.error_code, message.error_message = exc.code, str(exc)[:500]
    db.session.commit()
    log.warning("message %s: attempt %d failed (%s); the queue will retry", message.id,
                message.attempts, exc.code)
    raise exc  # the queue retries with backoff


def _recover_sent(provider, message: Message) -> bool:
    """After a crash mid-send: adopt the provider's record of the text if it exists."""
    sid = provider.find_sent(message_id=message.id, from_e164=message.from_e164,
                             to_e164=message.to_e164, body=message.body, since=message.created_at)
    if sid is None:
        return False
    log.info("message %s was already accepted as %s before a crash; not sending again", message.id, sid)
    message.provider_sid, message.status = sid, "sent"
    message.sent_at = message.sent_at or utcnow()
    db.session.commit()
    count_text("sent")
    return True


def _fail(message: Message, exc: SendError, final_note: str = "") -> None:
    """A send that cannot succeed: `failed` with the code, audited, owners (and its sitter) alerted."""
    message.status, message.error_code = "failed", exc.code
    message.error_message = (str(exc) + final_note)[:500]
    if exc.code == OPTED_OUT:
        mark_opted_out_by_phone(message.org_id, message.to_e164, source="send_error")
    alert_failed_message(message, exc.code, message.error_message)
    db.session.commit()
    count_text("failed")
    log.warning("message %s failed for good (%s)", message.id, exc.code)


def retry_message(message_id: int, actor: str = "system") -> Message:
    """Queue a failed, undelivered or unconfirmed text again (an owner's decision: for an
    `unknown` one the client may get it twice). The send job re-checks opt-out as always."""
    from app.errors import Conflict
    from app.services.queries.queue_health import RETRYABLE_MESSAGE_STATES

    message, _opted_out = _lock_message(message_id)
    if message is None or message.direction != "outbound" or message.status not in RETRYABLE_MESSAGE_STATES:
        db.session.rollback()
        raise Conflict("Only a failed, undelivered or unconfirmed text can be sent again.")
    if message.sender_kind == "automation":
        _refuse_in_quiet_hours(message)
    previous = message.status
    message.status, message.attempts, message.tries = "queued", 0, 0
    # A fresh send gets a fresh sid; late callbacks for the old one no longer match.
    message.error_code = message.error_message = message.provider_sid = None
    thread = message.thread
    record_event(message.org_id, "message.retried", booking_id=thread.booking_id if thread else None,
                 thread_id=message.thread_id, actor=actor, message_id=message.id, previous_status=previous)
    enqueue_send(message.id)
    db.session.commit()
    count_text("queued")
    return message


def _refuse_in_quiet_hours(message: Message) -> None:
    """An automated text sent again keeps the quiet hours in the client's time, the law's among
    them (DESIGN "Automations"): in them, Conflict (nothing changed) saying when it may go."""
    from app.errors import Conflict
    from app.localtime import with_their_time
    from app.services.automations.runs import after_quiet_hours, client_quiet, in_quiet_hours

    org = db.session.get(Org, message.org_id)
    client = db.session.scalar(select(Client).where(_is_recipient(message.org_id, message.to_e164)))
    quiet, now = client_quiet(client, org), utcnow()
    if in_quiet_hours(now, org, quiet):
        db.session.rollback()
        when = with_their_time(after_quiet_hours(now, org, quiet), org.timezone, quiet.zone)
        raise Conflict(f"It is quiet hours where the client is: an automated text may not reach them before "
                       f"{when}. Send it again then.")


UNKNOWN_REASON = ("The send was interrupted and the SMS provider could not confirm whether the text "
                  "went out. It will not be sent again by itself: check with the client, then retry "
                  "it from Queue health if needed.")


def settle_interrupted_send(message_id: int, stale_before: datetime) -> str:
    """A message left `sending` by a job that died (its worker killed, its machine lost).

    Asks the provider; a text it took becomes `sent` (with its sid); one it surely never took
    goes back to `queued` and is sent by a fresh job; otherwise the message becomes `unknown`
    with an audit event and an owner alert. Never sends twice. Returns the status afterwards.
    """
    message, _opted_out = _lock_message(message_id)
    if message is None or message.status != "sending" or message.updated_at >= stale_before:
        db.session.commit()  # finished, or touched again since reconcile looked: not stuck
        return "missing" if message is None else message.status
    return _settle_with_provider(get_provider(), message)


def _settle_with_provider(provider, message: Message) -> str:
    """Settle a stuck `sending` message (locked by the caller) from what the provider knows."""
    try:
        found = provider.look_up(message_id=message.id, provider_sid=message.provider_sid,
                                 from_e164=message.from_e164, to_e164=message.to_e164,
                                 body=message.body, since=message.created_at)
    except SendError as exc:  # the provider cannot answer now: decide on the next pass
        db.session.rollback()
        log.warning("message %s: could not ask the provider about an interrupted send (%s)", message.id,
                    exc.code)
        return "sending"
    _settle(message, found)
    db.session.commit()
    if message.status != "queued":  # a text put back in the queue is counted when it is sent
        count_text(message.status)
    return message.status


def _settle(message: Message, found: SentLookup) -> None:
    if found.sid is not None:
        log.info("message %s: the provider took it (%s) before the interruption", message.id, found.sid)
        message.provider_sid = found.sid
        message.status = "sent"
        message.sent_at = message.sent_at or utcnow()
        if found.status and advance_status(message, found.status) and message.status in ("failed", "undelivered"):
            message.error_message = f"The provider reported {message.status}"
            alert_failed_message(message, None, message.error_message)
        return
    if found.certain:
        log.info("message %s: the interrupted send never reached the provider; sending it", message.id)
        message.status = "queued"
        enqueue_send(message.id)
        return
    message.status, message.error_code, message.error_message = "unknown", "interrupted", UNKNOWN_REASON
    thread = message.thread
    booking_id = thread.booking_id if thread is not None else None
    record_event(message.org_id, "message.unknown", booking_id=booking_id, thread_id=message.thread_id,
                 message_id=message.id, reason="interrupted send not confirmed by the provider")
    raise_alert(message.org_id, "message.unknown",
                f"A text may or may not have reached the client (message #{message.id}): {UNKNOWN_REASON}",
                booking_id=booking_id, thread_id=message.thread_id, message_id=message.id)
    log.warning("message %s: interrupted send not confirmed; marked unknown", message.id)
