"""Reading calls for owners: a thread's calls, newest first, with their outcome in words."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Call

OUTCOME_LABELS = {
    "ringing_sitter": "ringing the sitter",
    "office": "sent to the office phone",
    "message": "heard the 'text us instead' message",
    "refused": "refused",
    "completed": "answered",
    "no-answer": "not answered",
    "busy": "busy",
    "failed": "failed",
    "canceled": "hung up before an answer",
}


def outcome_label(outcome: str) -> str:
    return OUTCOME_LABELS.get(outcome, outcome)


def calls_of_thread(thread_id: int, limit: int = 50) -> list[Call]:
    """The thread's calls, newest first (owners only: they carry the real numbers)."""
    return list(db.session.scalars(
        select(Call).where(Call.thread_id == thread_id).options(selectinload(Call.sitter))
        .order_by(Call.created_at.desc(), Call.id.desc()).limit(limit)))
