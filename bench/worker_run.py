"""`python -m bench.worker_run forking|simple|serve QUEUE…`: drain the queues in burst mode, print JSON
timing; `serve` works the queues (non-forking) until SIGTERM, as `worker.py` does.

Runs in its own process like `worker.py`, with the bench's settings from the environment.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time


def main() -> None:
    kind, queues = sys.argv[1], tuple(sys.argv[2:]) or ("default",)
    from app import create_app
    from app.jobs.worker import build_worker
    from bench.server import app_config

    app = create_app(app_config(os.environ))
    logging.getLogger().setLevel(logging.WARNING)  # per-job INFO lines would be timed too
    with app.app_context():
        worker = build_worker(app, forking=kind == "forking", queue_names=queues)
        if kind == "serve":  # RQ handles SIGTERM: the current job finishes, then it exits
            worker.work(burst=False, logging_level="WARNING")
            return
        before = _finished_ids(worker)
        started = time.perf_counter()
        worker.work(burst=True, logging_level="WARNING")
        seconds = time.perf_counter() - started
        done = _finished_ids(worker) - before
        print(
            json.dumps(
                {
                    "seconds": seconds,
                    "processed": len(done),
                    "failed": _failed(worker),
                    "job_span_seconds": _job_span(worker, done),
                }
            )
        )


def _finished_ids(worker) -> set[str]:
    from rq.registry import FinishedJobRegistry

    return {job_id for q in worker.queues for job_id in FinishedJobRegistry(queue=q).get_job_ids()}


def _failed(worker) -> int:
    from rq.registry import FailedJobRegistry

    return sum(FailedJobRegistry(queue=q).count for q in worker.queues)


def _job_span(worker, job_ids) -> float | None:
    """First job's start to last job's end, from RQ's own timestamps: the worker's start-up
    and shutdown (registration, maintenance) are left out, so short runs are not skewed."""
    from rq.job import Job
    from rq.serializers import JSONSerializer

    jobs = [j for j in Job.fetch_many(list(job_ids), connection=worker.connection, serializer=JSONSerializer) if j]
    if len(jobs) < 2:
        return None
    return (max(j.ended_at for j in jobs) - min(j.started_at for j in jobs)).total_seconds()


if __name__ == "__main__":
    main()
