"""JSON log lines: one object per line, each with the request's id (echoed in X-Request-ID) or
the job's id, numbers masked as in the text lines."""

from __future__ import annotations

import io
import json
import logging

import pytest

from app.config import ConfigError, build_config
from app.extensions import db
from app.observability.logs import JsonLogFormatter
from app.services.messaging.outbound import enqueue_send
from tests.support.factories import Factories
from tests.support.messaging_builders import booking_thread, outbound_message
from tests.support.twilio_stand_in import fixture_fields

NUMBER = "+12025550143"


@pytest.fixture
def json_lines():
    """A JSON handler on the root logger, as production has; returns a reader of its lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous_level = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(previous_level)


def test_a_callers_request_id_is_echoed_and_on_every_line_of_the_request(client, json_lines):
    response = client.post("/webhooks/twilio/sms", data=fixture_fields("inbound-sms"),
                           headers={"X-Request-ID": "lb-7f3a9c2e-0001"})
    assert response.status_code == 403  # unsigned: refused, and logged
    assert response.headers["X-Request-ID"] == "lb-7f3a9c2e-0001"
    lines = [line for line in json_lines() if line["logger"] == "app.blueprints.webhooks.twilio"]
    assert lines and all(line["request_id"] == "lb-7f3a9c2e-0001" for line in lines)
    assert {"time", "level", "logger", "message", "job_id"} <= set(lines[0])
    assert lines[0]["level"] == "WARNING"


def test_without_a_usable_request_id_one_is_made(client, json_lines):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32 and int(made, 16) >= 0
    for unusable in ("short", "x" * 200, NUMBER, "+1 (202) 555-0143", "id with spaces"):
        answered = client.get("/healthz", headers={"X-Request-ID": unusable}).headers["X-Request-ID"]
        assert answered != unusable and len(answered) == 32
    assert client.get("/healthz").headers["X-Request-ID"] != made  # one per request


def test_lines_of_a_job_carry_its_id_and_no_request_id(app, make, json_lines):
    thread = booking_thread(make, started_hours_ago=0.5)
    message = outbound_message(make, thread, status="queued")
    db.session.commit()

    enqueue_send(message.id)  # the embedded queue runs it inline

    lines = [line for line in json_lines() if line["job_id"] == f"send-message-{message.id}"]
    loggers = {line["logger"] for line in lines}
    assert "app.jobs.queue" in loggers  # the job's start and end
    assert "app.adapters.sms" in loggers  # and what the job itself logged (the outbox's line)
    assert all(line["request_id"] is None for line in lines)


def test_lines_of_an_rq_workers_job_carry_its_id(redis_app, clock, json_lines):
    from app.jobs.worker import build_worker

    make = Factories(db.session, clock)
    thread = booking_thread(make, started_hours_ago=0.5)
    message = outbound_message(make, thread, status="queued")
    db.session.commit()
    enqueue_send(message.id)  # into Redis this time

    build_worker(redis_app, forking=False).work(burst=True)

    lines = [line for line in json_lines() if line["job_id"] == f"send-message-{message.id}"]
    loggers = {line["logger"] for line in lines}
    assert "app.jobs.worker" in loggers and "app.adapters.sms" in loggers
    assert all(line["request_id"] is None for line in lines)


def test_json_lines_mask_numbers_in_messages_tracebacks_and_extra_fields(app, json_lines):
    log = logging.getLogger("app.some_service")
    log.warning("texting %s", NUMBER, extra={"recipient": NUMBER})
    try:
        raise ValueError(f"provider refused {NUMBER}")
    except ValueError:
        log.exception("send failed")
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in json_lines())
    assert "2025550143" not in text and "555-0143" not in text
    first, second = json_lines()[-2:]
    assert first["message"] == "texting •••0143" and first["recipient"] == "•••0143"
    assert "ValueError: provider refused •••0143" in second["exc_info"]


def test_production_logs_json_unless_told_otherwise(tmp_path):
    assert build_config(str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": "x" * 40})["LOG_FORMAT"] == "json"
    assert build_config(str(tmp_path), {"APP_ENV": "development"})["LOG_FORMAT"] == "text"
    assert build_config(str(tmp_path), {"LOG_FORMAT": "json"})["LOG_FORMAT"] == "json"
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        build_config(str(tmp_path), {"LOG_FORMAT": "xml"})


def test_a_line_whose_caller_passes_its_own_job_id_is_written_not_raised(app, json_lines):
    """RQ's worker logs with extra={"job_id": …}: that once raised KeyError in the record
    factory and made the worker quit after a failed job."""
    from app.observability.logs import job_context

    with job_context("send-message-7"):
        logging.getLogger("rq.worker").error("job failed", extra={"job_id": "send-message-7"})
    [line] = [line for line in json_lines() if line["message"] == "job failed"]
    assert line["job_id"] == "send-message-7"
