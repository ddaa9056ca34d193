"""Multiprocess metrics: what other processes counted shows in this process's scrape.

Each child process (as a gunicorn worker or `python worker.py` would) runs with
PROMETHEUS_MULTIPROC_DIR set, sends a text and is hit by a status-callback webhook; the scrape
here, in a third process, adds their files up.

PostgreSQL only for now: on SQLite, run after tests/web in one pytest process, the children
found both texts already sent (the scrape showed undelivered 2, sent 0), passing alone. Ids
restart on SQLite once the tables are emptied, so a job left over by an earlier test most
likely sent them; on PostgreSQL ids never repeat. Not chased to the end yet.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Message
from tests.support.messaging_builders import booking_thread, outbound_message
from tests.support.metrics import METRICS_TOKEN, scrape, value

ROOT = Path(__file__).resolve().parents[2]
STATUS = "/webhooks/twilio/status"


def _run_children(database_url: str, message_ids: list[int], metrics_dir: Path) -> None:
    """One child process a message, all at once (each starts the app: that, not the text, is their time)."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    env.pop("DATABASE_URL", None)
    children = [subprocess.Popen([sys.executable, "-m", "tests.support.metrics_child", database_url, str(message_id)],
                                 cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for message_id in message_ids]
    try:
        for child in children:
            _, stderr = child.communicate(timeout=120)
            assert child.returncode == 0, stderr[-3000:]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.communicate()


@pytest.mark.postgres_only
def test_series_from_two_other_processes_add_up_in_a_scrape(app_factory, make, migrated_database, tmp_path):
    thread = booking_thread(make, started_hours_ago=0.5)
    ids = [outbound_message(make, thread, status="queued").id for _ in range(2)]
    db.session.commit()  # and no read transaction left open here while the children write
    metrics_dir = tmp_path / "prometheus"

    _run_children(migrated_database, ids, metrics_dir)
    statuses = db.session.scalars(select(Message.status).where(Message.id.in_(ids))).all()
    db.session.rollback()
    assert statuses == ["undelivered", "undelivered"]  # each sent, then the callback said so

    assert len(list(metrics_dir.glob("counter_*.db"))) == 2  # one file per process
    scraper = app_factory(METRICS_TOKEN=METRICS_TOKEN, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)).test_client()
    samples = scrape(scraper)
    assert value(samples, "pawline_texts_total", status="sent") == 2, sorted(metrics_dir.iterdir())
    assert value(samples, "pawline_texts_total", status="undelivered") == 2
    assert value(samples, "pawline_text_provider_calls_total", provider="outbox", outcome="accepted") == 2
    assert value(samples, "pawline_webhook_requests_total", route=STATUS, status="200") == 2
    assert value(samples, "pawline_webhook_request_duration_seconds_count", route=STATUS) == 2
    # The database gauges are this scrape's own reading: nothing is waiting any more.
    assert value(samples, "pawline_queue_depth", queue="default") == 0


def test_gunicorn_config_keeps_live_processes_files_and_drops_dead_ones(tmp_path, monkeypatch):
    import runpy

    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    for name in (f"counter_{os.getpid()}.db", f"counter_{dead_pid}.db", f"gauge_livesum_{dead_pid}.db",
                 f"gauge_livesum_{os.getpid()}.db"):
        (metrics_dir / name).write_bytes(b"")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))

    config["on_starting"](server=None)
    assert sorted(p.name for p in metrics_dir.iterdir()) == [f"counter_{os.getpid()}.db",
                                                              f"gauge_livesum_{os.getpid()}.db"]

    class Worker:
        pid = os.getpid()

    config["child_exit"](server=None, worker=Worker())
    assert sorted(p.name for p in metrics_dir.iterdir()) == [f"counter_{os.getpid()}.db"]
