"""Logs carry no client number and no message body, whichever handler writes them."""

from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import insert

from app.models import Message
from app.privacy import mask_log_text, mask_phone_numbers_in_log_text

NUMBER = "+12025550143"
BODY = "the door code is 4417, Biscuit hides under the bed"


@pytest.fixture
def late_root_handler():
    """A handler added to the root logger after create_app (as gunicorn or an operator would)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def test_a_failing_statement_logs_neither_the_number_nor_the_body(app, make, late_root_handler):
    org = make.default_org

    @app.route("/_boom")
    def _boom():
        from app.extensions import db

        # org_id is NOT NULL: the insert fails with the number and body as bound values.
        db.session.execute(insert(Message).values(org_id=None, direction="outbound", sender_kind="owner",
                                                  status="queued", from_e164=NUMBER, to_e164=NUMBER, body=BODY))
        return "unreachable"

    assert org is not None
    response = app.test_client().get("/_boom")
    assert response.status_code == 500
    logged = late_root_handler.getvalue()
    assert "Exception on /_boom" in logged and "IntegrityError" in logged  # the failure itself is logged
    assert "SQL parameters hidden" in logged
    assert "2025550143" not in logged and "555-0143" not in logged
    assert BODY not in logged and "door code" not in logged


def test_a_number_in_a_message_or_traceback_is_masked_for_a_late_handler(app, late_root_handler):
    log = logging.getLogger("app.some_service")
    log.warning("sending to %s via SMa1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7", NUMBER)
    try:
        raise ValueError(f"provider refused {NUMBER}")
    except ValueError:
        log.exception("send failed")
    logged = late_root_handler.getvalue()
    assert "2025550143" not in logged
    assert logged.count("•••0143") == 2
    assert "SMa1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7" in logged


@pytest.mark.parametrize("text", [
    "sid=OBe12345678999626c0a1b2",
    "call SM0123456789abcdef0123456789abcdef done",
    "job 123e4567-e89b-12d3-a456-426614174000 queued",
    "request id 0f3a5c77e2b94d1e8a6b2c4d6e8f0a12",
    "at 2026-11-28 20:16:39 booking 12345",
    "stripe evt_1QabcDEF2345678901234567",
])
def test_ids_hex_strings_and_dates_survive_masking(text):
    assert mask_phone_numbers_in_log_text(text) == text


@pytest.mark.parametrize("text, expected", [
    ("to=+12025550143", "to=•••0143"),
    ("from +1 202-555-0143.", "from •••0143."),
    ("client (202) 555-0143 replied", "client •••0143 replied"),
    ("2025550143", "•••0143"),
    ("+447911123456: hello", "•••3456: hello"),
])
def test_phone_numbers_are_cut_to_their_last_four_digits(text, expected):
    assert mask_phone_numbers_in_log_text(text) == expected


def test_postgresql_error_details_lose_their_values():
    detail = ('psycopg.errors.NotNullViolation: null value in column "org_id" violates not-null constraint\n'
              'DETAIL:  Failing row contains (7, null, hi (see you), queued, +12025550143).\n'
              '\nThe above exception was the direct cause of the following exception:\n')
    masked = mask_log_text(detail)
    assert "hi (see you)" not in masked and "0143" not in masked
    assert "Failing row contains (values hidden)." in masked and "The above exception" in masked
    key = "DETAIL:  Key (org_id, email)=(3, robin@example.test) already exists.\n[SQL: INSERT …]"
    assert mask_log_text(key) == "DETAIL:  Key (org_id, email)=(values hidden) already exists.\n[SQL: INSERT …]"
