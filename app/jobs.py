"""RQ job functions: thin, take ids, safe to run twice."""

from __future__ import annotations


def send_message(message_id: int) -> str:
    from app.services.outbound import deliver_message

    return deliver_message(message_id)
