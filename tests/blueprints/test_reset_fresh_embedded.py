"""The password-reset flow, first attempt, on a freshly started embedded default (issue 30: "the first
password-reset attempt answered 500 on the embedded default").

scripts/run's path: a new SQLite file migrated by Alembic, the demo org seeded, then a new app built
as a new process would build it (development settings, no Redis, outbox SMS, CSRF on). The first
requests are a sitter's texted-code reset and an owner-issued reset link: no answer is a 5xx, and
each reset really sets the password. The one departure from scripts/run: the embedded scheduler's
thread is off (it cannot be stopped and would outlive the test); its first periodic run is 15 s
after start, long after these requests.
"""

from __future__ import annotations

import re

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Message, PasswordReset, User
from app.services.ops.demo import DEMO_PASSWORD, seed_demo

NEW_PASSWORD = "a-brand-new-password-7"


def embedded_app(database_url: str, tmp_path):
    return create_app({"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": None,
                       "SMS_PROVIDER": "outbox", "EMBEDDED_SCHEDULER": False, "MEDIA_ROOT": str(tmp_path / "media"),
                       "TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None})


def close(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def fresh_instance(tmp_path):
    """A migrated, seeded SQLite file, and a new app on it (the server's first start)."""
    url = f"sqlite:///{tmp_path / 'pawline.sqlite3'}"
    setup = embedded_app(url, tmp_path)
    with setup.app_context():
        upgrade()
        seed_demo()
    close(setup)
    app = embedded_app(url, tmp_path)
    yield app
    close(app)


def csrf(response) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True)).group(1)


def answered(response, *, expect: int):
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    assert response.status_code == expect
    return response


def can_log_in(app, email: str, password: str) -> bool:
    browser = app.test_client()
    page = answered(browser.get("/login"), expect=200)
    return browser.post("/login", data={"csrf_token": csrf(page), "email": email,
                                        "password": password}).status_code == 302


def test_a_sitters_first_code_reset_on_a_fresh_instance(fresh_instance):
    app, email = fresh_instance, "devon@demo.pawline.test"
    browser = app.test_client()
    page = answered(browser.get("/forgot"), expect=200)
    sent = answered(browser.post("/forgot", data={"csrf_token": csrf(page), "email": email}), expect=302)
    form = answered(browser.get(sent.headers["Location"]), expect=200)
    with app.app_context():
        body = db.session.scalar(select(Message.body).where(Message.body.contains("reset code")))
    code = re.search(r"code is (\d{6})", body).group(1)
    wrong = browser.post("/forgot/code", data={"csrf_token": csrf(form), "email": email, "code": "000000"
                                               if code != "000000" else "111111",
                                               "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    answered(wrong, expect=422)
    done = browser.post("/forgot/code", data={"csrf_token": csrf(form), "email": email, "code": code,
                                              "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert answered(done, expect=302).headers["Location"].endswith("/login")
    assert can_log_in(app, email, NEW_PASSWORD)
    assert not can_log_in(app, email, DEMO_PASSWORD)


def test_an_owner_issued_link_first_use_on_a_fresh_instance(fresh_instance):
    app = fresh_instance
    owner = app.test_client()
    page = answered(owner.get("/login"), expect=200)
    answered(owner.post("/login", data={"csrf_token": csrf(page), "email": "owner@demo.pawline.test",
                                        "password": DEMO_PASSWORD}), expect=302)
    users = answered(owner.get("/admin/users"), expect=200)
    with app.app_context():
        staff_id = db.session.scalar(select(User.id).where(User.email == "staff@demo.pawline.test"))
    issued = answered(owner.post(f"/admin/users/{staff_id}/reset-link", data={"csrf_token": csrf(users)}),
                      expect=200)
    token = re.search(r"/reset#t=([A-Za-z0-9_\-]+)", issued.get_data(as_text=True)).group(1)
    stranger = app.test_client()
    form = answered(stranger.get("/reset"), expect=200)  # the fragment stays in the browser

    def reset(password, page=form):
        return stranger.post("/reset", data={"csrf_token": csrf(page), "token": token, "password": password,
                                             "confirm": password})

    answered(reset("short"), expect=422)
    assert answered(reset(NEW_PASSWORD), expect=302).headers["Location"].endswith("/login")
    again = answered(stranger.get("/reset"), expect=200)  # a reset starts a new session: a new form
    answered(reset("another-good-one-1", again), expect=404)  # used once
    assert can_log_in(app, "staff@demo.pawline.test", NEW_PASSWORD)
    with app.app_context():
        assert db.session.scalar(select(PasswordReset.used_at).where(PasswordReset.kind == "link")) is not None


def test_a_reset_before_the_database_is_migrated_is_not_a_500(tmp_path):
    """The only 500 found in the flow: a server started on a file `flask db upgrade` never ran on
    (scripts/run always migrates first). It must say so, as a 503, not crash with a 500."""
    app = embedded_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path)
    try:
        browser = app.test_client()
        page = answered(browser.get("/forgot"), expect=200)
        response = browser.post("/forgot", data={"csrf_token": csrf(page), "email": "devon@demo.pawline.test"})
        assert response.status_code == 503
        assert "flask --app app db upgrade" in response.get_data(as_text=True)
    finally:
        close(app)
