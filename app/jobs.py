"""RQ job functions: thin, take ids, safe to run twice."""

from __future__ import annotations


def send_message(message_id: int) -> str:
    from app.services.outbound import deliver_message

    return deliver_message(message_id)


def apply_status_callback(callback_id: int) -> str:
    """A stored status callback whose sid was not saved yet: raises (so it is retried) until it is."""
    from app.services.delivery_status import apply_stored_callback

    return apply_stored_callback(callback_id)


def run_automation(run_id: int) -> str:
    from app.services.automations import run_automation as run

    return run(run_id)


def reconcile() -> dict[str, int]:
    """Re-enqueue every row-backed job Redis lost and settle stuck sends (app.services.reconcile)."""
    from app.services.reconcile import reconcile as run

    return run(shared_lock=True).counts


def complete_due_bookings() -> int:
    from app.services.booking_lifecycle import complete_due_bookings as complete

    return complete()


def apply_stripe_event(event_id: str) -> str:
    from app.services.stripe_events import apply_stripe_event as apply

    return apply(event_id)


def fetch_inbound_media(media_id: int) -> str:
    from app.services.media_inbound import fetch_inbound_media as fetch

    return fetch(media_id)
