"""The RQ worker: one app, a fresh app context (and DB session) per job."""

from __future__ import annotations

import logging
import os

from flask import Flask
from rq import SimpleWorker, Worker
from rq.serializers import JSONSerializer

from app.extensions import db
from app.queue import QUEUE_NAMES, get_queue

log = logging.getLogger(__name__)

# Run each time a worker starts: re-enqueue scheduled automations, stored Stripe events and
# pending inbound media fetches whose jobs Redis may have lost.
WORKER_START_TASKS = ("app.jobs.reconcile_automations", "app.jobs.reconcile_stripe_events",
                      "app.jobs.reconcile_inbound_media")
# Run every PERIODIC_TASK_SECONDS from each worker's loop (RQ maintenance) and from the
# embedded scheduler thread: reconcile again (a Redis flush while workers run) and
# complete bookings whose window has ended. Both are idempotent, so N workers doing
# it is harmless; the worker loop needs no Redis-held schedule that could itself be lost.
PERIODIC_TASKS = ("app.jobs.reconcile_automations", "app.jobs.complete_due_bookings",
                  "app.jobs.reconcile_stripe_events", "app.jobs.reconcile_inbound_media")
PERIODIC_TASK_SECONDS = 300


def run_tasks(app: Flask, names) -> None:
    """Run named jobs in a fresh app context each; one failing does not stop the rest."""
    from app.queue import resolve

    for name in names:
        try:
            with app.app_context():
                log.info("task %s", name)
                resolve(name)()
        except Exception:  # a bad run must not take the worker down
            log.exception("task %s failed", name)


def periodic_tasks(app: Flask) -> tuple[str, ...]:
    return tuple(app.config.get("PERIODIC_TASKS", PERIODIC_TASKS))


class _AppContextMixin:
    flask_app: Flask
    _parent_pid: int

    def perform_job(self, job, queue):
        if os.getpid() != self._parent_pid:
            # A forked work horse must not reuse the parent's pooled connections.
            with self.flask_app.app_context():
                db.engine.dispose(close=False)
        with self.flask_app.app_context():
            log.info("job %s start %s", job.id, job.func_name)
            return super().perform_job(job, queue)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        run_tasks(self.flask_app, periodic_tasks(self.flask_app))


class AppWorker(_AppContextMixin, Worker):
    """Forking worker (RQ's default): a crash in a job cannot take the worker down."""


class AppSimpleWorker(_AppContextMixin, SimpleWorker):
    """Non-forking worker, the default (`worker.py`): no fork and no new connection per job."""


def build_worker(app: Flask, *, forking: bool = False, queue_names=QUEUE_NAMES):
    backend = get_queue()
    cls = AppWorker if forking else AppSimpleWorker
    worker = cls(
        [backend.queue(name) for name in queue_names],
        connection=backend.redis,
        serializer=JSONSerializer,
        maintenance_interval=app.config.get("PERIODIC_TASK_SECONDS", PERIODIC_TASK_SECONDS),
    )
    worker.flask_app = app
    worker._parent_pid = os.getpid()
    return worker


def on_worker_start(app: Flask) -> None:
    """Work that must happen each time a worker starts (re-enqueue what Redis lost)."""
    run_tasks(app, app.config.get("WORKER_START_TASKS", WORKER_START_TASKS))
