"""RQ job functions: thin, take ids, safe to run twice."""

from __future__ import annotations


def send_message(message_id: int) -> str:
    from app.services.outbound import deliver_message

    return deliver_message(message_id)


def apply_delivery_status(fields: dict) -> str:
    """A status callback whose sid was not saved yet: raises (so it is retried) until it is."""
    from app.services.delivery_status import apply_status_callback

    return apply_status_callback(fields, recheck_if_unknown=False)
