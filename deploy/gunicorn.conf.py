"""gunicorn settings for Pawline (`gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'`).

Metrics: with PROMETHEUS_MULTIPROC_DIR set (docs/operations.md, "Metrics"), every worker
process writes its series to files there and /metrics adds them up. At start, files left by
processes that no longer run are removed (a restart begins the counters again, which
Prometheus' rate() reads as a reset); when a worker exits, its live gauges are dropped
(`mark_process_dead`). Logs: JSON lines in production (LOG_FORMAT=json), gunicorn's own
error and access lines too, each access line with the request's id.
"""

import glob
import os

from gunicorn.glogging import Logger

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss request_id=%({x-request-id}o)s "%(a)s"'

_JSON_LOGS = os.environ.get("LOG_FORMAT", "json" if os.environ.get("APP_ENV") == "production" else "text") == "json"


class PawlineLogger(Logger):
    """gunicorn's logger with the app's masking (numbers cut to their last four digits) and,
    in production, the app's JSON lines."""

    def setup(self, cfg):
        super().setup(cfg)
        from app.privacy import install_log_masking

        install_log_masking()
        if _JSON_LOGS:
            from app.observability.logs import JsonLogFormatter

            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(JsonLogFormatter())


logger_class = PawlineLogger


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def on_starting(server):
    """Remove the metric files of processes that no longer run (an earlier gunicorn's workers);
    those of running processes (`python worker.py` sharing the directory) stay."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return
    os.makedirs(path, exist_ok=True)
    for name in glob.glob(os.path.join(path, "*.db")):
        pid = os.path.basename(name).rsplit("_", 1)[-1].removesuffix(".db")
        if pid.isdigit() and not _pid_alive(int(pid)):
            os.remove(name)


def child_exit(server, worker):
    """A worker process ended: its live gauges no longer count (prometheus-client's hook)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
