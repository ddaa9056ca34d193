"""`python -m bench.worker_run forking|simple QUEUE…`: drain the queues in burst mode, print JSON timing.

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
    from app.worker import build_worker
    from bench.server import app_config

    app = create_app(app_config(os.environ))
    logging.getLogger().setLevel(logging.WARNING)  # per-job INFO lines would be timed too
    with app.app_context():
        worker = build_worker(app, forking=kind == "forking", queue_names=queues)
        before = _finished_and_failed(worker)
        started = time.perf_counter()
        worker.work(burst=True, logging_level="WARNING")
        seconds = time.perf_counter() - started
        after = _finished_and_failed(worker)
        print(json.dumps({"seconds": seconds, "processed": after[0] - before[0], "failed": after[1] - before[1]}))


def _finished_and_failed(worker) -> tuple[int, int]:
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    finished = sum(FinishedJobRegistry(queue=q).count for q in worker.queues)
    failed = sum(FailedJobRegistry(queue=q).count for q in worker.queues)
    return finished, failed


if __name__ == "__main__":
    main()
