"""The other series move where the work happens: reconcile's finds, push outcomes, login throttles."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.services.ops.reconcile import reconcile
from tests.services.notifications.test_notify import inbound, push, subscribe, visit
from tests.support.messaging_builders import booking_thread, outbound_message
from tests.support.metrics import METRICS_TOKEN, scrape, value
from tests.support.push import PUSH_CONFIG

__all__ = ["push", "visit"]  # fixtures shared with the notification tests


@pytest.fixture
def app_config():
    return {**PUSH_CONFIG, "METRICS_TOKEN": METRICS_TOKEN}


def _moved(before, after, name, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_reconcile_finding_lost_work_is_counted_by_kind(client, make):
    thread = booking_thread(make, started_hours_ago=0.5)
    outbound_message(make, thread, status="queued")  # its job was never enqueued: "lost"
    db.session.commit()
    before = scrape(client)

    report = reconcile()

    assert report.counts["messages_queued"] == 1
    after = scrape(client)
    assert _moved(before, after, "pawline_reconcile_found_total", kind="messages_queued") == 1
    assert _moved(before, after, "pawline_reconcile_found_total", kind="automation_runs") == 0
    assert _moved(before, after, "pawline_reconcile_runs_total", result="ok") == 1
    assert value(after, "pawline_reconcile_last_run_timestamp_seconds") > 0
    assert _moved(before, after, "pawline_texts_total", status="sent") == 1  # and the text went out


def test_push_outcomes_are_counted_per_device(client, make, visit, push):
    subscribe(push, visit.user)
    subscribe(push, visit.user, answer=410)
    subscribe(push, visit.user, answer=500)
    before = scrape(client)

    inbound(visit.thread.message_number, visit.booking.client)
    push.wait_for(3)

    after = scrape(client)
    for outcome in ("delivered", "gone", "error"):
        assert _moved(before, after, "pawline_push_deliveries_total", outcome=outcome) == 1
    assert _moved(before, after, "pawline_notifications_total", channel="push", status="sent") == 1


def test_login_lockouts_and_throttled_attempts_are_counted(client, make):
    owner = make.user("owner")
    before = scrape(client)
    for _ in range(10):
        assert client.post("/login", data={"email": owner.email, "password": "wrong-password-1"}).status_code == 401
    assert client.post("/login", data={"email": owner.email, "password": "wrong-password-1"}).status_code == 429

    after = scrape(client)
    assert _moved(before, after, "pawline_login_lockouts_total") == 1
    assert _moved(before, after, "pawline_login_throttled_total", scope="login") == 1
