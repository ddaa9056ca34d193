"""Login throttling: 10 failures per account and 50 per address in 15 minutes, then 429 for everyone."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Alert, EventLog
from app.services.accounts import passwords as accounts
from app.services.accounts.throttle import ACCOUNT_FAILURES, EXTENSION_KEY
from tests.support.factories import PASSWORD


@pytest.fixture
def cheap_unknown_hash(monkeypatch):
    """Unknown emails hash against a cheap dummy here: these tests count attempts, not scrypt time."""
    from werkzeug.security import generate_password_hash

    cheap = generate_password_hash("x", method="pbkdf2:sha256:1000")
    monkeypatch.setattr(accounts, "_dummy_hash", lambda: cheap)


def _try(client, email, password="wrong-password-1", address="203.0.113.7"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _count(db, kind):
    return db.session.scalar(select(func.count(EventLog.id)).where(EventLog.kind == kind))


def test_brute_force_of_one_account_gets_429_before_the_right_password_is_accepted(client, make, db):
    owner = make.user("owner")
    for _ in range(10):
        assert _try(client, owner.email).status_code == 401
    refused = _try(client, owner.email, PASSWORD)
    assert refused.status_code == 429
    assert 600 <= int(refused.headers["Retry-After"]) <= 15 * 60 + 1
    page = refused.get_data(as_text=True)
    assert "Too many failed attempts. Try again in about 15 minutes" in page
    assert client.get("/admin").status_code == 302  # not logged in
    assert _count(db, "login.failed") == 10 and _count(db, "login.locked") == 1


def test_the_account_lock_holds_from_another_address_and_other_accounts_are_free(client, make):
    owner, staff = make.user("owner"), make.user("staff")
    for _ in range(10):
        _try(client, owner.email.upper())
    assert _try(client, owner.email, PASSWORD, address="198.51.100.9").status_code == 429
    assert _try(client, staff.email, PASSWORD).status_code == 302


def test_fifty_failures_from_one_address_lock_that_address(client, make, cheap_unknown_hash):
    owner = make.user("owner")
    for n in range(50):
        assert _try(client, f"guess{n}@example.test").status_code == 401
    assert _try(client, owner.email, PASSWORD).status_code == 429
    assert _try(client, owner.email, PASSWORD, address="198.51.100.9").status_code == 302


def test_unknown_deactivated_and_wrong_answer_alike_with_one_hash_each(client, make, db, monkeypatch):
    active, inactive = make.user("owner"), make.user("staff", active=False)
    for user in (active, inactive):  # real users' hashes, as the app makes them (the factories' are cheap)
        user.set_password(PASSWORD)
    db.session.commit()
    hashed = []
    real = accounts.check_password_hash

    def counting(pwhash, password):
        hashed.append(pwhash.split("$")[0])
        return real(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    emails = [active.email, inactive.email, "nobody@example.test"]
    answers = [_try(client, emails[0]), _try(client, emails[1], PASSWORD), _try(client, emails[2])]
    assert [r.status_code for r in answers] == [401, 401, 401]
    # The same page, but for the email typed in the form.
    assert len({r.get_data(as_text=True).replace(e, "EMAIL") for r, e in zip(answers, emails, strict=True)}) == 1
    # The same work for each: one hash with the method and cost of real passwords.
    assert len(hashed) == 3 and len(set(hashed)) == 1


def test_repeated_lockouts_alert_the_owners(app, client, make, db):
    staff = make.user("staff")
    limiter = app.extensions[EXTENSION_KEY].limiter
    for lockout in range(2):
        for _ in range(10):
            _try(client, staff.email)
        assert _try(client, staff.email, PASSWORD).status_code == 429
        if lockout == 0:
            assert db.session.scalar(select(func.count(Alert.id))) == 0
            limiter.clear(ACCOUNT_FAILURES, "account", staff.email)  # as if the 15 minutes had passed
    alert = db.session.scalar(select(Alert).where(Alert.kind == "login.lockouts"))
    assert alert is not None and staff.email in alert.text and alert.audience == "owner"
    assert _count(db, "login.locked") == 2


def test_counters_are_shared_by_every_web_process_through_redis(redis_app, app_factory, redis_url, make):
    owner = make.user("owner")
    first = redis_app.test_client()
    second = app_factory(REDIS_URL=redis_url).test_client()  # another process, same Redis
    for _ in range(10):
        _try(first, owner.email)
    assert _try(second, owner.email, PASSWORD).status_code == 429


def test_an_unreachable_limiter_store_does_not_lock_everyone_out(app_factory, make, caplog):
    owner = make.user("owner")
    app = app_factory(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")  # nothing listens there
    response = _try(app.test_client(), owner.email, PASSWORD)
    assert response.status_code == 302
    assert "login throttle storage unavailable" in caplog.text


def test_behind_a_trusted_proxy_the_address_is_the_clients(app_factory, make, cheap_unknown_hash):
    owner = make.user("owner")
    client = app_factory(PROXY_COUNT=1).test_client()
    for n in range(50):
        client.post("/login", data={"email": f"g{n}@example.test", "password": "wrong-password-1"},
                    headers={"X-Forwarded-For": "203.0.113.50"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    other_client = client.post("/login", data={"email": owner.email, "password": PASSWORD},
                               headers={"X-Forwarded-For": "198.51.100.20"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert other_client.status_code == 302  # the proxy's address was not the one locked
