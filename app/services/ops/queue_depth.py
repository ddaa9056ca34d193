"""Waiting work per queue, from the database (the truth), for /metrics at scrape time.

Every piece of work that must happen has a row (docs/design.md, "Nothing lost"); this counts
the rows still waiting and the age of the oldest, grouped by the RQ queue their job runs on:

- `default`: texts `queued` (kind `texts`), status callbacks `pending` (`status_callbacks`),
  inbound media `pending` (`inbound_media`), sitter notifications `pending` (`notifications`);
- `automations`: automation runs `scheduled` whose time has come (`automation_runs`);
- `stripe`: Stripe events `received`, not applied yet (`stripe_events`).

Redis' own queue lengths are added when REDIS_URL is set (`pawline_redis_queue_length`):
the difference between the two is work Redis lost that reconcile will put back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from app.clock import utcnow
from app.extensions import db
from app.jobs.queue import get_queue
from app.jobs.specs import QUEUE_NAMES
from app.models import AutomationRun, Message, MessageMedia, Notification, StatusCallback, StripeEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Waiting:
    kind: str
    queue: str
    count: int
    oldest: datetime | None


def _waiting(kind: str, queue: str, statement) -> Waiting:
    row = db.session.execute(statement.execution_options(all_orgs=True)).one()
    return Waiting(kind, queue, row[0] or 0, row[1])


def waiting_work(now: datetime) -> list[Waiting]:
    """One small aggregate query per kind of row, each on an indexed status column."""
    return [
        _waiting("texts", "default", select(func.count(), func.min(Message.created_at))
                 .where(Message.status == "queued")),
        _waiting("status_callbacks", "default", select(func.count(), func.min(StatusCallback.received_at))
                 .where(StatusCallback.state == "pending")),
        _waiting("inbound_media", "default", select(func.count(), func.min(MessageMedia.created_at))
                 .where(MessageMedia.status == "pending")),
        _waiting("notifications", "default", select(func.count(), func.min(Notification.created_at))
                 .where(Notification.status == "pending")),
        _waiting("automation_runs", "automations", select(func.count(), func.min(AutomationRun.scheduled_for))
                 .where(AutomationRun.status == "scheduled", AutomationRun.scheduled_for <= now)),
        _waiting("stripe_events", "stripe", select(func.count(), func.min(StripeEvent.created_at))
                 .where(StripeEvent.status == "received")),
    ]


def _age(oldest: datetime | None, now: datetime) -> float:
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


class QueueDepthCollector:
    """A prometheus-client collector computing the waiting work when scraped."""

    def __init__(self, now: datetime | None = None):
        self.now = now

    def collect(self):
        now = self.now or utcnow()
        up = GaugeMetricFamily("pawline_database_up", "1 when the scrape could read the database.")
        try:
            work = waiting_work(now)
            db.session.commit()  # end the read transaction
        except Exception as exc:  # the database is down: say so instead of failing the scrape
            db.session.rollback()
            log.warning("metrics: could not read waiting work (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        depth = GaugeMetricFamily("pawline_queue_depth", "Rows waiting for their job, per queue (database).",
                                  labels=["queue"])
        age = GaugeMetricFamily("pawline_queue_oldest_age_seconds",
                                "Age of the oldest row waiting for its job, per queue (0 when none).",
                                labels=["queue"])
        kind_depth = GaugeMetricFamily("pawline_work_waiting", "Rows waiting for their job, per kind (database).",
                                       labels=["kind", "queue"])
        kind_age = GaugeMetricFamily("pawline_work_oldest_age_seconds",
                                     "Age of the oldest row waiting, per kind (0 when none).",
                                     labels=["kind", "queue"])
        for queue in QUEUE_NAMES:
            rows = [w for w in work if w.queue == queue]
            oldest = min((w.oldest for w in rows if w.count and w.oldest is not None), default=None)
            depth.add_metric([queue], sum(w.count for w in rows))
            age.add_metric([queue], _age(oldest, now))
        for w in work:
            kind_depth.add_metric([w.kind, w.queue], w.count)
            kind_age.add_metric([w.kind, w.queue], _age(w.oldest if w.count else None, now))
        yield from (depth, age, kind_depth, kind_age)
        yield from self._redis_lengths()

    @staticmethod
    def _redis_lengths():
        backend = get_queue()
        if backend.kind != "rq":
            return
        lengths = GaugeMetricFamily("pawline_redis_queue_length", "Jobs waiting in Redis, per queue.",
                                    labels=["queue"])
        try:
            for queue in QUEUE_NAMES:
                lengths.add_metric([queue], len(backend.queue(queue)))
        except Exception as exc:  # Redis away: the database figures above still hold
            log.warning("metrics: could not read Redis queue lengths (%s)", type(exc).__name__)
            return
        yield lengths
