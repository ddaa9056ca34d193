"""The fuzz suite's world: one app with CSRF on, a small org of every kind of row, and a logged-in
test client per role, shared by the module (logging in through /login once per role).

Hypothesis profiles: `ci` (the default, bounded so the whole suite stays about a minute
per backend) and `night` (PAWLINE_FUZZ_PROFILE=night: many more examples per route).
PAWLINE_FUZZ_EXAMPLES overrides the number of examples of either.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import select

from app import clock as app_clock
from app.extensions import db as _db
from tests.conftest import _empty_all_tables, build_app, close_app
from tests.fuzz.forms import crawl_forms
from tests.support.factories import PASSWORD, Factories
from tests.support.sitter_data import make_visit

_COMMON = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                      HealthCheck.function_scoped_fixture,
                                      HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=12, derandomize=True, **_COMMON)
settings.register_profile("night", max_examples=400, **_COMMON)
_profile = os.environ.get("PAWLINE_FUZZ_PROFILE", "ci")
if os.environ.get("PAWLINE_FUZZ_EXAMPLES"):
    settings.register_profile(f"{_profile}-sized", settings.get_profile(_profile),
                              max_examples=int(os.environ["PAWLINE_FUZZ_EXAMPLES"]))
    _profile = f"{_profile}-sized"
FUZZ_SETTINGS = settings.get_profile(_profile)
FUZZ_DIR = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    """Every test under tests/fuzz carries the `fuzz` marker: `-m "not fuzz"` leaves them out."""
    for item in items:
        if item.path.is_relative_to(FUZZ_DIR):
            item.add_marker(pytest.mark.fuzz)

START = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 10:00 in New York: a window is open
ROLES = ("anonymous", "sitter", "staff", "owner")
SENT_SID = "SM" + "3" * 32  # an outbound text of the world, for status callbacks
_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


@dataclass
class World:
    app: object
    clients: dict = field(default_factory=dict)  # role → logged-in test client
    tokens: dict = field(default_factory=dict)  # role → a valid CSRF token for that session
    ids: list[int] = field(default_factory=list)  # every primary key of the seeded rows
    twilio: dict = field(default_factory=dict)  # numbers and sids that route somewhere real
    forms: dict = field(default_factory=dict)  # role → endpoint → the forms its pages show
    emails: dict = field(default_factory=dict)  # role → login email


def _seed(make: Factories) -> dict:
    """One org with a row of every kind, and a second org (its ids are someone else's)."""
    owner = make.user("owner", email="owner@fuzz.test")
    staff = make.user("staff", email="staff@fuzz.test")
    sitter = make.sitter(name="Sasha Sitter")
    sitter.user.email = "sitter@fuzz.test"
    make.session.commit()
    make.number("front_desk")
    visit = make_visit(make, sitter=sitter, start=START - timedelta(minutes=30))
    later = make_visit(make, sitter=sitter, start=START + timedelta(days=1), status="pending")
    make.message(visit.thread, body="Is Biscuit eating ok?")
    make.message(visit.thread, body="after hours", owner_inbox=True, routing_reason="recent_thread_no_window")
    make.message(visit.thread, direction="outbound", sender_kind="sitter", body="On my way",
                 sender_user_id=sitter.user_id, status="failed")
    make.message(visit.thread, direction="outbound", sender_kind="sitter", body="Walked!",
                 sender_user_id=sitter.user_id, status="sent", provider_sid=SENT_SID)
    make.alert("sitter", sitter_id=sitter.id, thread_id=visit.thread.id, text="Not sent")
    make.alert("owner", text="A text failed")
    make.automation_run(visit.booking, status="failed", reason="template")
    make.automation_run(later.booking, kind="night_before_reminder")
    make.event("booking.confirmed", booking_id=visit.booking.id)
    make.stripe_event(status="ignored")
    other = make.org(name="Elsewhere")
    make_visit(make, org=other, sitter=make.sitter(org=other))
    twilio = {"To": visit.thread.message_number.e164, "From": visit.booking.client.phone_e164}
    return {"owner": owner, "staff": staff, "sitter": sitter.user, "twilio": twilio}


def _log_in(app, role: str, email: str | None):
    """A test client logged in through the real login form (CSRF token and all)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = _TOKEN.search(page).group(1)
    if email is not None:
        response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, f"{role} could not log in ({response.status_code})"
        home = client.get(response.headers["Location"]).get_data(as_text=True)
        token = _TOKEN.search(home).group(1)
    return client, token


@pytest.fixture(scope="module")
def world(migrated_database):
    """The shared world; its tables are emptied afterwards, as every test leaves them.

    No app context stays pushed while requests run: each request (and each snapshot) gets
    its own, as in production, so no `g` or database session leaks between them.
    """
    app = build_app(migrated_database, WTF_CSRF_ENABLED=True)
    app_clock.set_now(START)
    try:
        built = World(app=app)
        with app.app_context():
            clock = type("FrozenClock", (), {"now": START})()
            users = _seed(Factories(_db.session, clock))
            emails = built.emails = {role: users[role].email for role in ("owner", "staff", "sitter")}
            built.twilio = users["twilio"]
            for table in _db.metadata.sorted_tables:
                if "id" in table.c:
                    built.ids += [i for i in _db.session.scalars(select(table.c.id)) if isinstance(i, int)]
            _db.session.remove()
        for role in ROLES:
            built.clients[role], built.tokens[role] = _log_in(app, role, emails.get(role))
            built.forms[role] = crawl_forms(app, built.clients[role], ["/login", "/", "/sitter", "/admin"])
        yield built
    finally:
        with app.app_context():
            _db.session.rollback()
            _empty_all_tables()
        app_clock.set_now(None)
        close_app(app)


@pytest.fixture
def world_sessions(world):
    """Each route's fuzz starts with every role logged in: an earlier route's fuzz may have
    switched a user off (a real form of /admin/users) or changed what its session holds."""
    from app.models import User

    for role, email in world.emails.items():
        response = world.clients[role].get("/")
        if response.status_code == 302 and "/login" not in response.headers["Location"]:
            continue
        with world.app.app_context():
            user = _db.session.scalar(select(User).where(User.email == email))
            user.active = True
            _db.session.commit()
            _db.session.remove()
        world.clients[role], world.tokens[role] = _log_in(world.app, role, email)
    return world
