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


class AppWorker(_AppContextMixin, Worker):
    """Forking worker (RQ's default): a crash in a job cannot take the worker down."""


class AppSimpleWorker(_AppContextMixin, SimpleWorker):
    """Non-forking worker: used by tests and wherever fork cost dominates."""


def build_worker(app: Flask, *, forking: bool = True, queue_names=QUEUE_NAMES):
    backend = get_queue()
    cls = AppWorker if forking else AppSimpleWorker
    worker = cls([backend.queue(name) for name in queue_names], connection=backend.redis,
                 serializer=JSONSerializer)
    worker.flask_app = app
    worker._parent_pid = os.getpid()
    return worker


def on_worker_start(app: Flask) -> None:
    """Work that must happen each time a worker starts (re-enqueue what Redis lost)."""
    for task in app.config.get("WORKER_START_TASKS", ()):
        log.info("worker start task %s", task)
        from app.queue import resolve

        resolve(task)()
