"""`flask --app app proof` in-process: passes when the chain works, fails loudly when not."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.localtime import zone_where_it_is
from app.models import Booking, Org
from app.services.ops.proof import PROOF_ORG


def test_proof_passes_prints_the_evidence_and_can_run_again(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["proof"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "RESULT: PASS" in out and "MISSING" not in out
    assert "HTTP 200 received" in out  # the webhook stores; the in-process queue applied it before the answer
    assert ": processed after 1 attempt(s)" in out
    assert "+12025550151 (sitter) chosen because: sitter_dedicated" in out
    assert "confirmation  message #" in out and "from +12025550151" in out
    assert "outbox" in out
    assert "+12025550160" not in out  # the client's number is masked even here
    for kind in ("payment.received", "thread.created", "window.created", "booking.confirmed"):
        assert kind in out

    second = runner.invoke(args=["proof"])
    assert second.exit_code == 0, second.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Org).where(Org.name == PROOF_ORG)) == 1
    confirmed = select(func.count()).select_from(Booking).where(Booking.status == "confirmed")
    assert db.session.scalar(confirmed) == 2


def test_proof_fails_when_the_confirmation_chain_is_broken(app, monkeypatch):
    import app.services.bookings.confirmed as booking_confirmed

    monkeypatch.setattr(
        booking_confirmed, "confirm_locked_booking", lambda booking, actor=None: None
    )
    result = app.test_cli_runner().invoke(args=["proof", "--wait", "0"])
    assert result.exit_code == 1
    assert "MISSING       no thread for the booking" in result.output
    assert "RESULT: FAIL" in result.output


def test_proof_fails_without_a_webhook_secret(app):
    app.config["STRIPE_WEBHOOK_SECRET"] = None
    result = app.test_cli_runner().invoke(args=["proof"])
    assert result.exit_code == 1 and "STRIPE_WEBHOOK_SECRET" in result.output


def test_proof_zone_puts_the_org_in_early_afternoon():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    for utc_hour in range(24):
        now = datetime(2026, 11, 25, utc_hour, 30, tzinfo=UTC)
        assert now.astimezone(ZoneInfo(zone_where_it_is(13, utc_hour))).hour == 13
