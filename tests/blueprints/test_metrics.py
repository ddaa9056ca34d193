"""GET /metrics: only the bearer of METRICS_TOKEN sees it; the series move with the work."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.jobs import send_message
from tests.support.messaging_builders import booking_thread, outbound_message
from tests.support.metrics import METRICS_TOKEN, scrape, value
from tests.support.twilio_stand_in import fixture_fields, post_signed

STATUS = "/webhooks/twilio/status"
SMS = "/webhooks/twilio/sms"


@pytest.fixture
def app_config():
    return {"METRICS_TOKEN": METRICS_TOKEN}


def test_only_the_metrics_token_opens_metrics(client, make, login_as):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token"}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": METRICS_TOKEN}).status_code == 404  # no scheme
    login_as(make.user("owner"))
    assert client.get("/metrics").status_code == 404  # an owner, logged in, without the token
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "pawline_texts_total" in response.get_data(as_text=True)


def test_without_a_metrics_token_metrics_is_404_for_everyone(app_factory):
    client = app_factory(METRICS_TOKEN=None).test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer None"}).status_code == 404


def test_texts_sent_and_failed_move_their_series(client, make, twilio):
    thread = booking_thread(make, started_hours_ago=0.5)
    ok = outbound_message(make, thread, status="queued")
    refused = outbound_message(make, thread, status="queued")
    db.session.commit()
    before = scrape(client)

    send_message(ok.id)
    twilio.fail_next(400, 21211)  # invalid number: permanent
    send_message(refused.id)

    after = scrape(client)
    assert value(after, "pawline_texts_total", status="sent") - value(before, "pawline_texts_total", status="sent") == 1
    assert value(after, "pawline_texts_total", status="failed") - \
        value(before, "pawline_texts_total", status="failed") == 1
    calls = "pawline_text_provider_calls_total"
    assert value(after, calls, provider="twilio", outcome="accepted") - \
        value(before, calls, provider="twilio", outcome="accepted") == 1
    assert value(after, calls, provider="twilio", outcome="permanent_error") - \
        value(before, calls, provider="twilio", outcome="permanent_error") == 1


def test_a_webhook_hit_is_counted_by_route_and_status_and_timed(client, make):
    thread = booking_thread(make, started_hours_ago=0.5)
    outbound_message(make, thread, provider_sid="SM22222222222222222222222222222222")
    db.session.commit()
    before = scrape(client)

    assert post_signed(client, STATUS, fixture_fields("status-callback")).status_code == 200
    assert client.post(SMS, data=fixture_fields("inbound-sms")).status_code == 403  # unsigned

    after = scrape(client)
    requests = "pawline_webhook_requests_total"
    assert value(after, requests, route=STATUS, status="200") - value(before, requests, route=STATUS, status="200") == 1
    assert value(after, requests, route=SMS, status="403") - value(before, requests, route=SMS, status="403") == 1
    latency = "pawline_webhook_request_duration_seconds_count"
    assert value(after, latency, route=STATUS) - value(before, latency, route=STATUS) == 1
    assert value(after, "pawline_texts_total", status="undelivered") - \
        value(before, "pawline_texts_total", status="undelivered") == 1


def test_queue_depth_and_age_come_from_the_database(client, make, clock):
    thread = booking_thread(make, started_hours_ago=0.5)
    outbound_message(make, thread, status="queued", created_at=clock.now - timedelta(minutes=7))
    outbound_message(make, thread, status="queued", created_at=clock.now - timedelta(minutes=1))
    make.automation_run(thread.booking, kind="night_before_reminder", scheduled_for=clock.now - timedelta(minutes=3))
    make.automation_run(thread.booking, kind="visit_followup", scheduled_for=clock.now + timedelta(hours=3))  # not due
    make.stripe_event(status="received", created_at=clock.now - timedelta(seconds=90))
    make.stripe_event(status="processed", created_at=clock.now - timedelta(hours=2))
    db.session.commit()

    samples = scrape(client)
    assert value(samples, "pawline_queue_depth", queue="default") == 2
    assert value(samples, "pawline_queue_oldest_age_seconds", queue="default") == pytest.approx(420)
    assert value(samples, "pawline_queue_depth", queue="automations") == 1
    assert value(samples, "pawline_queue_oldest_age_seconds", queue="automations") == pytest.approx(180)
    assert value(samples, "pawline_queue_depth", queue="stripe") == 1
    assert value(samples, "pawline_queue_oldest_age_seconds", queue="stripe") == pytest.approx(90)
    assert value(samples, "pawline_work_waiting", kind="texts", queue="default") == 2
    assert value(samples, "pawline_database_up") == 1


def test_no_label_holds_a_number_a_body_or_an_org_name(client, make, twilio):
    make.default_org.name = "Whiskers & Co of 202-555-0188"
    thread = booking_thread(make, started_hours_ago=0.5, client=make.client(phone_e164="+12025550177"))
    message = outbound_message(make, thread, status="queued", body="Call me on 202 555 0177 please")
    db.session.commit()
    send_message(message.id)
    post_signed(client, SMS, fixture_fields("inbound-sms", From="+12025550177"))
    client.get("/webhooks/twilio/+12025550177")  # no such route: counted as unmatched, not by path

    text = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_data(as_text=True)
    for needle in ("2025550177", "555-0177", "555 0177", "Whiskers", "Call me", "202-555-0188"):
        assert needle not in text
    assert 'route="unmatched"' in text
