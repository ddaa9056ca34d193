"""RQ job functions: thin, take ids, safe to run twice."""

from __future__ import annotations


def send_message(message_id: int) -> str:
    from app.services.messaging.outbound import deliver_message

    return deliver_message(message_id)


def apply_status_callback(callback_id: int) -> str:
    """A stored status callback whose sid was not saved yet: raises (so it is retried) until it is."""
    from app.services.messaging.delivery_status import apply_stored_callback

    return apply_stored_callback(callback_id)


def run_automation(run_id: int) -> str:
    from app.services.automations.run_job import run_automation as run

    return run(run_id)


def reconcile() -> dict[str, int]:
    """Re-enqueue every row-backed job Redis lost and settle stuck sends (app.services.ops.reconcile)."""
    from app.services.ops.reconcile import reconcile as run

    return run(shared_lock=True).counts


def complete_due_bookings() -> int:
    from app.services.bookings.lifecycle import complete_due_bookings as complete

    return complete()


def notify_client_text(message_id: int) -> int:
    from app.services.notifications.notify import notify_client_text as notify

    return notify(message_id)


def notify_visit_change(booking_id: int, change: str, sitter_id: int) -> int:
    from app.services.notifications.notify import notify_visit_change as notify

    return notify(booking_id, change, sitter_id)


def notify_window_opening(window_id: int) -> int:
    from app.services.notifications.notify import notify_window_opening as notify

    return notify(window_id)


def deliver_notification(notification_id: int) -> str:
    from app.services.notifications.notify import deliver_notification as deliver

    return deliver(notification_id)


def notify_windows_opening_soon() -> int:
    from app.services.notifications.notify import notify_windows_opening_soon as notify

    return notify()


def reconcile_notifications() -> int:
    from app.services.notifications.notify import reconcile_notifications as reconcile

    return reconcile()


def apply_stripe_event(event_id: str) -> str:
    from app.services.payments.stripe_events import apply_stripe_event as apply

    return apply(event_id)


def fetch_inbound_media(media_id: int) -> str:
    from app.services.media.inbound import fetch_inbound_media as fetch

    return fetch(media_id)


def delete_provider_copy(deletion_id: int) -> str:
    from app.services.messaging.provider_deletion import delete_provider_copy as delete

    return delete(deletion_id)


def purge_expired_messages() -> int:
    from app.services.messaging.retention import purge_expired_messages as purge

    return purge()


def resume_provider_deletions() -> int:
    from app.services.messaging.provider_deletion import resume_pending_deletions as resume

    return resume()


def late_visits() -> dict[str, int]:
    """Raise `visit.late` / `visit.unfinished` once per visit (app.services.visits.alerts)."""
    from app.services.visits.alerts import scan_late_visits

    return scan_late_visits().counts
