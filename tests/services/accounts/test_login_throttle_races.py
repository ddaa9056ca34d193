"""The login throttle counts before it checks, and holds when Redis is down (a database counter).

The probe: 40 parallel login attempts evaluated 16 passwords where the limit is 10; with Redis
down the throttle was gone.
"""

from __future__ import annotations

import uuid

import pytest

from app.services.accounts.throttle import ACCOUNT_FAILURES, login_refusal
from tests.blueprints.test_login_throttle import _try
from tests.services.accounts.test_one_time_races import race
from tests.support.factories import PASSWORD

UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens there


def _parallel_tries(app, count):
    email = f"race-{uuid.uuid4().hex[:8]}@pawline.test"  # a key of its own in a shared Redis
    outcomes = race(app, count, lambda i: login_refusal(email, f"198.51.100.{i % 200}"))
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    return sum(o is None for o in outcomes)


@pytest.mark.postgres_only
def test_forty_parallel_attempts_let_ten_passwords_be_checked_through_redis(app_factory, redis_url):
    app = app_factory(RATELIMIT_STORAGE_URI=redis_url)
    assert _parallel_tries(app, 40) == ACCOUNT_FAILURES.amount == 10


@pytest.mark.postgres_only
def test_forty_parallel_attempts_let_ten_passwords_be_checked_with_redis_down(app_factory):
    app = app_factory(RATELIMIT_STORAGE_URI=UNREACHABLE)
    assert _parallel_tries(app, 40) == 10


def test_with_redis_down_ten_failures_still_lock_the_account(app_factory, make, caplog):
    owner = make.user("owner")
    client = app_factory(RATELIMIT_STORAGE_URI=UNREACHABLE).test_client()
    for _ in range(10):
        assert _try(client, owner.email).status_code == 401
    refused = _try(client, owner.email, PASSWORD)
    assert refused.status_code == 429 and "Too many failed attempts" in refused.get_data(as_text=True)
    assert "counting in the database" in caplog.text


def test_with_redis_down_the_right_password_still_logs_in_and_is_forgiven(app_factory, make):
    owner = make.user("owner")
    client = app_factory(RATELIMIT_STORAGE_URI=UNREACHABLE).test_client()
    for _ in range(9):
        _try(client, owner.email)
    assert _try(client, owner.email, PASSWORD).status_code == 302
    client.post("/logout")
    assert _try(app_factory(RATELIMIT_STORAGE_URI=UNREACHABLE).test_client(), owner.email).status_code == 401
