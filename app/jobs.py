"""RQ job functions: thin, take ids, safe to run twice."""

from __future__ import annotations


def send_message(message_id: int) -> str:
    from app.services.outbound import deliver_message

    return deliver_message(message_id)


def apply_delivery_status(fields: dict) -> str:
    """A status callback whose sid was not saved yet: raises (so it is retried) until it is."""
    from app.services.delivery_status import apply_status_callback

    return apply_status_callback(fields, recheck_if_unknown=False)


def run_automation(run_id: int) -> str:
    from app.services.automations import run_automation as run

    return run(run_id)


def reconcile_automations() -> int:
    from app.services.automations import reconcile_automations as reconcile

    return reconcile()


def complete_due_bookings() -> int:
    from app.services.booking_lifecycle import complete_due_bookings as complete

    return complete()


def apply_stripe_event(event_id: str) -> str:
    from app.services.stripe_events import apply_stripe_event as apply

    return apply(event_id)


def reconcile_stripe_events() -> int:
    from app.services.stripe_events import reconcile_stripe_events as reconcile

    return reconcile()


def fetch_inbound_media(media_id: int) -> str:
    from app.services.media_inbound import fetch_inbound_media as fetch

    return fetch(media_id)


def reconcile_inbound_media() -> int:
    from app.services.media_inbound import reconcile_inbound_media as reconcile

    return reconcile()
