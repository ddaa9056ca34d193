"""`python worker.py [--forking]`: an RQ worker with the scheduler on `default`, `automations` and `stripe`.

Non-forking by default: the benchmark (docs/performance.md, "Outbound sends") measured
RQ's forking worker at about an eighth of the non-forking one's send rate, because every
job pays a fork and a fresh database connection. `--forking` keeps RQ's default
(a crash in a job cannot take the worker down) for deployments that prefer that.
"""

from __future__ import annotations

import argparse
import logging
import sys

from app import create_app
from app.jobs.worker import build_worker, on_worker_start

log = logging.getLogger("pawline.worker")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="worker.py", description="Pawline's RQ worker (with the scheduler).")
    parser.add_argument(
        "--forking",
        action="store_true",
        help="fork a work horse per job (RQ's default worker); slower, isolates crashes",
    )
    args = parser.parse_args(argv)
    app = create_app()
    if not app.config["REDIS_URL"]:
        log.error("REDIS_URL is not set: the embedded queue runs jobs inside the web process")
        return 2
    with app.app_context():
        on_worker_start(app)
        worker = build_worker(app, forking=args.forking)
        # RQ handles SIGTERM itself: the current job finishes, then the worker exits.
        worker.work(with_scheduler=True, logging_level="INFO")
    return 0


if __name__ == "__main__":
    sys.exit(main())
