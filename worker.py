"""`python worker.py`: an RQ worker with the scheduler on `default` and `automations`."""

from __future__ import annotations

import logging
import sys

from app import create_app
from app.worker import build_worker, on_worker_start

log = logging.getLogger("pawline.worker")


def main() -> int:
    app = create_app()
    if not app.config["REDIS_URL"]:
        log.error("REDIS_URL is not set: the embedded queue runs jobs inside the web process")
        return 2
    with app.app_context():
        on_worker_start(app)
        worker = build_worker(app)
        # RQ handles SIGTERM itself: the current job finishes, then the worker exits.
        worker.work(with_scheduler=True, logging_level="INFO")
    return 0


if __name__ == "__main__":
    sys.exit(main())
