"""One-time things stay one-time under concurrency (PostgreSQL, real threads, one session each).

The probe: 9 parallel wrong SMS reset codes left failed_attempts = 2 and the right code still
worked; 6 parallel POSTs of one reset link made 6 resets.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import EventLog, PasswordReset
from app.services.accounts.passwords import (
    RESET_CODE_TRIES,
    issue_reset_link,
    reset_with_code,
    reset_with_link,
    send_reset_code,
)
from tests.blueprints.test_passwords import _code_text

NEW_PASSWORD = "kibble-and-cuddles-9"


def race(app, count, action):
    """Run `action(i)` in `count` threads released together; returns each outcome or exception."""
    gate = threading.Barrier(count)
    outcomes = [None] * count

    def run(i):
        with app.app_context():
            gate.wait()
            try:
                outcomes[i] = action(i)
            except Exception as exc:  # noqa: BLE001 - the outcome under test
                outcomes[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.mark.postgres_only
def test_parallel_wrong_codes_all_count_and_the_right_code_then_fails(app, make):
    make.number("front_desk")
    sitter = make.sitter()
    email = sitter.user.email
    send_reset_code(email)
    _, code = _code_text(db, sitter.phone_e164)
    wrong = [f"{(int(code) + i) % 10**6:06d}" for i in range(1, 10)]
    outcomes = race(app, 9, lambda i: reset_with_code(email, wrong[i], NEW_PASSWORD))
    assert all(isinstance(o, InvalidInput) for o in outcomes), outcomes
    db.session.rollback()
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.kind == "sms_code"))
    assert reset.failed_attempts == RESET_CODE_TRIES and reset.used_at is not None
    with pytest.raises(InvalidInput):
        reset_with_code(email, code, NEW_PASSWORD)


@pytest.mark.postgres_only
def test_one_reset_link_posted_six_times_at_once_resets_once(app, make):
    owner = make.user("owner")
    sitter = make.sitter()
    token = issue_reset_link(sitter.user.id, actor=f"user:{owner.id}")
    outcomes = race(app, 6, lambda i: reset_with_link(token, f"{NEW_PASSWORD}-{i}"))
    done = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(done) == 1 and all(isinstance(o, Conflict) for o in outcomes if isinstance(o, Exception)), outcomes
    db.session.rollback()
    resets = db.session.scalars(select(EventLog).where(EventLog.kind == "user.password_reset")).all()
    assert len(resets) == 1


def test_the_right_code_after_wrong_ones_still_works_once(app, make):
    make.number("front_desk")
    sitter = make.sitter()
    send_reset_code(sitter.user.email)
    _, code = _code_text(db, sitter.phone_e164)
    with pytest.raises(InvalidInput):
        reset_with_code(sitter.user.email, f"{(int(code) + 1) % 10**6:06d}", NEW_PASSWORD)
    assert reset_with_code(sitter.user.email, code, NEW_PASSWORD).id == sitter.user.id
    with pytest.raises(InvalidInput):
        reset_with_code(sitter.user.email, code, NEW_PASSWORD + "x")


@pytest.mark.postgres_only
def test_parallel_code_requests_text_one_code(app, make):
    """/forgot on demand: six requests at once for one login pass the "no valid code yet" check
    one at a time, so the org pays for one text."""
    from sqlalchemy import func

    from app.models import Message
    from app.services.accounts.reset_codes import request_reset_code

    make.number("front_desk")
    sitter = make.sitter()
    outcomes = race(app, 6, lambda i: request_reset_code(sitter.user.email).outcome)
    assert sorted(outcomes) == ["accepted"] + ["already_sent"] * 5, outcomes
    db.session.rollback()
    assert db.session.scalar(select(func.count(Message.id))) == 1
