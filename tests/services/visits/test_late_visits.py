"""Late and unfinished visits: one owner alert each, never twice, cleared by check-in, cancel and
reassignment, a push to the office and the sitter, the CLI, and queue health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Alert, EventLog, Notification
from app.services.bookings.lifecycle import cancel_booking, change_sitter
from app.services.notifications import notify as notifications
from app.services.queries.queue_health import queue_health
from app.services.visits.alerts import scan_late_visits
from app.services.visits.checks import check_in, check_out
from tests.support.push import PUBLIC, PUSH_CONFIG, SUBJECT
from tests.support.push_stand_in import PushStandIn
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York


@pytest.fixture
def app_config():
    return dict(PUSH_CONFIG)


@pytest.fixture
def visit(make, clock):
    clock.set(START - timedelta(hours=1))
    client = make.client(name="Alex Morgan", pets=("Biscuit",))
    return make_visit(make, start=START, hours=1, client=client)


def _alerts(kind: str = "visit.late") -> list[Alert]:
    db.session.rollback()
    return db.session.scalars(select(Alert).where(Alert.kind == kind).order_by(Alert.id)).all()


def test_a_visit_not_checked_in_15_minutes_after_its_start_raises_one_owner_alert_once(visit, clock):
    clock.set(START + timedelta(minutes=14, seconds=59))
    assert scan_late_visits().late == []
    clock.set(START + timedelta(minutes=15))
    assert scan_late_visits().late == [visit.booking.id]
    clock.advance(minutes=1)
    assert scan_late_visits().late == []  # never twice
    clock.advance(hours=1)
    scan_late_visits()
    [alert] = _alerts()
    assert (alert.audience, alert.kind, alert.booking_id, alert.resolved_at) == ("owner", "visit.late",
                                                                                visit.booking.id, None)
    assert alert.sitter_id is None and alert.thread_id == visit.thread.id
    assert "Alex Morgan (Biscuit) at 9:00 AM" in alert.text and visit.sitter.name in alert.text
    assert "not checked in 15 minutes after its start" in alert.text
    events = db.session.scalars(select(EventLog.kind).where(EventLog.kind == "visit.late")).all()
    assert events == ["visit.late"]


def test_the_org_sets_how_late_is_late(visit, clock):
    org = visit.booking.org
    org.visit_late_minutes = 5
    db.session.commit()
    clock.set(START + timedelta(minutes=5))
    assert scan_late_visits().late == [visit.booking.id]


def test_no_late_alert_after_a_check_in(visit, clock):
    clock.set(START + timedelta(minutes=3))
    check_in(visit.user.id, visit.booking.id)
    clock.set(START + timedelta(minutes=40))
    assert scan_late_visits().late == []
    assert _alerts() == []


def test_a_late_check_in_resolves_the_alert(visit, clock):
    clock.set(START + timedelta(minutes=16))
    scan_late_visits()
    clock.advance(minutes=4)
    check_in(visit.user.id, visit.booking.id)
    [alert] = _alerts()
    assert alert.resolved_at == START + timedelta(minutes=20)
    clock.advance(minutes=5)
    assert scan_late_visits().late == []  # not raised again


def test_cancelling_clears_the_late_alert_and_a_cancelled_visit_is_never_late(visit, make, clock):
    clock.set(START + timedelta(minutes=16))
    scan_late_visits()
    cancel_booking(visit.booking.id, "client came home early")
    [alert] = _alerts()
    assert alert.resolved_at is not None
    assert "visit.late_cleared" in db.session.scalars(select(EventLog.kind)).all()

    other = make_visit(make, sitter=visit.sitter, start=START + timedelta(hours=3))
    cancel_booking(other.booking.id, "changed plans")
    clock.set(other.booking.start_at + timedelta(minutes=30))
    assert scan_late_visits().late == []


def test_reassigning_clears_the_late_alert(visit, make, clock):
    clock.set(START + timedelta(minutes=16))
    scan_late_visits()
    change_sitter(visit.booking.id, make.sitter().id)
    [alert] = _alerts()
    assert alert.resolved_at is not None
    clock.advance(minutes=10)
    assert scan_late_visits().late == []  # one alert per visit, ever


def test_a_visit_not_checked_out_an_hour_after_its_end_raises_visit_unfinished_once(visit, clock):
    clock.set(START + timedelta(minutes=2))
    check_in(visit.user.id, visit.booking.id)
    end = visit.booking.end_at
    clock.set(end + timedelta(minutes=59))
    assert scan_late_visits().unfinished == []
    clock.set(end + timedelta(hours=1))
    assert scan_late_visits().unfinished == [visit.booking.id]
    clock.advance(minutes=5)
    assert scan_late_visits().unfinished == []
    [alert] = _alerts("visit.unfinished")
    assert (alert.audience, alert.booking_id) == ("owner", visit.booking.id)
    assert "checked in but has not checked out" in alert.text


def test_a_check_out_means_no_unfinished_alert(visit, clock):
    clock.set(START)
    check_in(visit.user.id, visit.booking.id)
    clock.set(START + timedelta(minutes=55))
    check_out(visit.user.id, visit.booking.id)
    clock.set(visit.booking.end_at + timedelta(hours=2))
    assert scan_late_visits().unfinished == []


def test_the_office_and_the_sitter_get_a_push_without_any_number(visit, make, clock):
    owner, staff_off = make.user("owner"), make.user("staff")
    with PushStandIn(PUBLIC, SUBJECT) as push:
        notifications.save_push_subscription(owner, push.subscribe(201), device="laptop", inbox_items=True)
        notifications.save_push_subscription(staff_off, push.subscribe(201), device="phone", inbox_items=False)
        notifications.save_push_subscription(visit.user, push.subscribe(201), device="phone")
        clock.set(START + timedelta(minutes=15))
        scan_late_visits()
        received = push.wait_for(2)
        assert len(received) == 2 and all(item.problems == [] for item in received)
        payloads = {item.payload["url"]: item.payload for item in received}
    assert payloads[f"/admin/bookings/{visit.booking.id}"]["title"] == "Visit not checked in"
    sitter_push = payloads[f"/sitter/visits/{visit.booking.id}"]
    assert sitter_push["title"] == "Late: your 9:00 AM visit" and "Alex (Biscuit)" in sitter_push["body"]
    assert visit.booking.client.phone_e164[-4:] not in str(payloads)
    rows = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
    assert sorted(r.user_id for r in rows) == sorted([owner.id, visit.user.id])  # staff without opt-in: none
    assert {r.status for r in rows} == {"sent"}
    clock.advance(minutes=1)
    scan_late_visits()
    assert db.session.scalars(select(Notification)).all().__len__() == 2  # no second push


def test_queue_health_lists_late_and_unfinished_visits(visit, make, clock):
    clock.set(START + timedelta(minutes=1))
    check_in(visit.user.id, visit.booking.id)
    late = make_visit(make, start=START + timedelta(hours=2))
    clock.set(visit.booking.end_at + timedelta(hours=1))  # 11:00: unfinished; `late` started at 11:00
    clock.set(late.booking.start_at + timedelta(minutes=20))
    scan_late_visits()
    lines = {line.key: line for line in queue_health(visit.booking.org_id)["lines"]}
    assert (lines["visits_late"].count, lines["visits_late"].problem) == (1, True)
    assert (lines["visits_unfinished"].count, lines["visits_unfinished"].problem) == (1, True)
    assert lines["visits_late"].label == "Visits late (not checked in)"


def test_the_cli_command_raises_the_alerts(app, visit, clock):
    clock.set(START + timedelta(minutes=20))
    result = app.test_cli_runner().invoke(args=["late-visits"])
    assert result.exit_code == 0, result.output
    assert "late: 1" in result.output
    assert len(_alerts()) == 1
    again = app.test_cli_runner().invoke(args=["late-visits"])
    assert "late: 0" in again.output and len(_alerts()) == 1


@pytest.mark.postgres_only
def test_eight_workers_scanning_at_once_raise_one_alert(app_factory, visit, clock):
    """Every worker runs the scan each minute: overlapping scans still raise the alert once."""
    import threading

    other = app_factory(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 2, "pool_timeout": 60})
    clock.set(START + timedelta(minutes=20))
    barrier, raised, errors = threading.Barrier(8), [], []

    def scan():
        try:
            with other.app_context():
                barrier.wait(timeout=30)
                raised.extend(scan_late_visits().late)
        except Exception as exc:  # collected: the test asserts none escaped
            errors.append(exc)

    threads = [threading.Thread(target=scan) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and raised == [visit.booking.id]
    assert len(_alerts()) == 1


def test_a_late_visit_moves_the_operators_late_visits_series_once(app, client, visit, clock):
    from tests.support.metrics import METRICS_TOKEN, scrape, value

    app.config["METRICS_TOKEN"] = METRICS_TOKEN
    before = value(scrape(client), "pawline_late_visits_total")
    clock.set(START + timedelta(minutes=15))
    scan_late_visits()
    clock.advance(minutes=1)
    scan_late_visits()  # the same visit again: no second alert, no second count
    assert value(scrape(client), "pawline_late_visits_total") - before == 1
