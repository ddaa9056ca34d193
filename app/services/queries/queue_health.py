"""An org's queue health, from the database (the truth), not from Redis.

For owners and staff: how many texts are queued, sending, unconfirmed (`unknown`) or
failed, and how many automation runs are due or failed, each with the age of the oldest,
plus the failed ones to retry. The RQ dashboard shows Redis (every org's jobs) and is for
operators; this page shows what the business's own work is waiting on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.clock import utcnow
from app.extensions import db
from app.models import Alert, AutomationRun, Message

MESSAGE_STATES = ("queued", "sending", "unknown", "failed", "undelivered")
RETRYABLE_MESSAGE_STATES = ("unknown", "failed", "undelivered")
LIST_LIMIT = 50
# Past these ages a line is shown as a problem: a healthy queue sends within seconds.
STALE_AFTER = {"queued": timedelta(minutes=2), "sending": timedelta(minutes=2),
               "due_runs": timedelta(minutes=5)}


@dataclass(frozen=True)
class QueueLine:
    key: str
    label: str
    count: int
    oldest_age: timedelta | None
    problem: bool


def _line(key: str, label: str, count: int, oldest: datetime | None, now: datetime) -> QueueLine:
    age = (now - oldest) if oldest is not None and count else None
    stale = STALE_AFTER.get(key)
    if key in ("queued", "sending", "due_runs"):
        problem = age is not None and stale is not None and age > stale
    else:
        problem = count > 0
    return QueueLine(key, label, count, age, problem)


def queue_health(org_id: int, now: datetime | None = None) -> dict:
    """Counts and oldest ages (two grouped queries on indexed columns) and the rows to retry."""
    now = now or utcnow()
    by_status = {
        row.status: row for row in db.session.execute(
            select(Message.status, func.count().label("n"), func.min(Message.created_at).label("oldest"))
            .where(Message.org_id == org_id, Message.status.in_(MESSAGE_STATES),
                   Message.direction == "outbound")
            .group_by(Message.status))
    }
    due = db.session.execute(
        select(func.count().label("n"), func.min(AutomationRun.scheduled_for).label("oldest"))
        .where(AutomationRun.org_id == org_id, AutomationRun.status == "scheduled",
               AutomationRun.scheduled_for <= now)
    ).one()
    failed_runs_count = db.session.execute(
        select(func.count().label("n"), func.min(AutomationRun.updated_at).label("oldest"))
        .where(AutomationRun.org_id == org_id, AutomationRun.status == "failed")
    ).one()

    def message_line(status: str, label: str) -> QueueLine:
        row = by_status.get(status)
        return _line(status, label, row.n if row else 0, row.oldest if row else None, now)

    lines = [
        message_line("queued", "Texts queued"),
        message_line("sending", "Texts being sent"),
        message_line("unknown", "Texts not confirmed (interrupted send)"),
        message_line("failed", "Texts failed"),
        message_line("undelivered", "Texts undelivered"),
        _line("due_runs", "Automations due", due.n, due.oldest, now),
        _line("failed_runs", "Automations failed", failed_runs_count.n, failed_runs_count.oldest, now),
        *visit_lines(org_id, now),
    ]
    messages = list(db.session.scalars(
        select(Message).options(joinedload(Message.thread))
        .where(Message.org_id == org_id, Message.direction == "outbound",
               Message.status.in_(RETRYABLE_MESSAGE_STATES))
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(LIST_LIMIT)
    ).unique())
    runs = list(db.session.scalars(
        select(AutomationRun).where(AutomationRun.org_id == org_id, AutomationRun.status == "failed")
        .order_by(AutomationRun.updated_at.desc()).limit(LIST_LIMIT)
    ).unique())
    return {"lines": lines, "problem_messages": messages, "failed_runs": runs, "now": now}


VISIT_LINES = (("visit.late", "visits_late", "Visits late (not checked in)"),
               ("visit.unfinished", "visits_unfinished", "Visits not checked out"))


def visit_lines(org_id: int, now: datetime) -> list[QueueLine]:
    """Open late and unfinished visit alerts (app.services.visits.alerts): each one is a problem."""
    rows = {row.kind: row for row in db.session.execute(
        select(Alert.kind, func.count().label("n"), func.min(Alert.created_at).label("oldest"))
        .where(Alert.org_id == org_id, Alert.audience == "owner", Alert.resolved_at.is_(None),
               Alert.kind.in_([kind for kind, _, _ in VISIT_LINES]))
        .group_by(Alert.kind))}
    return [_line(key, label, rows[kind].n if kind in rows else 0, rows[kind].oldest if kind in rows else None, now)
            for kind, key, label in VISIT_LINES]
