"""Fixtures: app, db, client, login_as, factories (`make`), a frozen clock, real Redis.

The suite runs on SQLite by default and on PostgreSQL with
`PAWLINE_TEST_DB=postgresql` (or `--db postgresql`): each run gets a fresh
database built by the Alembic migrations, and every test starts from empty tables.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from app import clock as app_clock
from app import create_app
from app.adapters.twilio_sms import TwilioProvider
from app.extensions import db as _db
from tests.support.factories import Factories
from tests.support.login import log_in
from tests.support.server_like_client import ServerLikeClient
from tests.support.twilio_stand_in import TwilioStandIn

PG_ADMIN_URL = os.environ.get("PAWLINE_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("PAWLINE_TEST_REDIS", "redis://127.0.0.1:6379")


def pytest_addoption(parser):
    parser.addoption("--db", default=os.environ.get("PAWLINE_TEST_DB", "sqlite"),
                     choices=("sqlite", "postgresql"), help="database backend for the suite")


def pytest_report_header(config):
    return f"pawline database backend: {config.getoption('--db')}"


def pytest_collection_modifyitems(config, items):
    if config.getoption("--db") != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL concurrency (run with --db postgresql)")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def backend(pytestconfig) -> str:
    return pytestconfig.getoption("--db")


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory):
    """A fresh database for this run, migrated to head."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        yield url
        return
    with empty_pg_database(f"pawline_test_{os.getpid()}_{uuid.uuid4().hex[:6]}") as url:
        yield url


@contextmanager
def empty_pg_database(name: str):
    """An empty PostgreSQL database for the block (dropped after, connections or not)."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_database(database_url):
    """Build the schema with the real migrations (so they are tested on every run)."""
    from flask_migrate import upgrade

    app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade()
        _db.engine.dispose()
    return database_url


@pytest.fixture(scope="session")
def redis_url():
    """A Redis database number of our own for this run (others may run at once)."""
    from redis import Redis

    admin = Redis.from_url(f"{REDIS_BASE}/0")
    scratch = None
    token = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"
    for number in range(1, 16):
        if admin.set(f"pawline-test-lock:{number}", token, nx=True, ex=3 * 3600):
            break
    else:
        pytest.fail("no free Redis database (1-15) for the test run")
    url = f"{REDIS_BASE}/{number}"
    scratch = Redis.from_url(url)
    scratch.flushdb()
    yield url
    scratch.flushdb()
    scratch.close()
    if admin.get(f"pawline-test-lock:{number}") == token.encode():
        admin.delete(f"pawline-test-lock:{number}")
    admin.close()


_DELETE_ALL: dict[str, str] = {}  # dialect name → "DELETE FROM …; DELETE FROM …" (children first)


def _empty_all_tables() -> None:
    # DELETE beats TRUNCATE for a few rows: TRUNCATE takes catalog locks on every table. The
    # statements are compiled once a run (every test's app has a new engine, so SQLAlchemy's
    # compiled cache never kept them), and PostgreSQL gets them in one round trip.
    dialect = _db.session.get_bind().dialect
    script = _DELETE_ALL.get(dialect.name)
    if script is None:
        script = _DELETE_ALL[dialect.name] = ";\n".join(
            str(table.delete().compile(dialect=dialect)) for table in reversed(_db.metadata.sorted_tables))
    if dialect.name == "postgresql":
        _db.session.execute(text(script))
    else:  # sqlite3 runs one statement an execute
        for statement in script.split(";\n"):
            _db.session.execute(text(statement))
    _db.session.commit()


def build_app(database_url: str, **overrides):
    config = {
        "APP_ENV": "test",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "pawline.test",
        "PUBLIC_BASE_URL": "https://pawline.test",
        "REDIS_URL": None,
        "STRIPE_WEBHOOK_SECRET": "whsec_test_secret",
        "TWILIO_AUTH_TOKEN": "twilio-test-token",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "SMS_PROVIDER": "outbox",
        # Media files of this test run, never the developer's instance/ folder.
        "MEDIA_ROOT": os.path.join(tempfile.gettempdir(), f"pawline-test-media-{os.getpid()}"),
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = ServerLikeClient
    return app


def close_app(app) -> None:
    """Release what an app holds (pooled DB connections, Redis sockets)."""
    from app.jobs.queue import EXTENSION_KEY

    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
    app.extensions[EXTENSION_KEY].close()


@pytest.fixture
def app_factory(migrated_database):
    """app_factory(**config): an extra app for one test, closed afterwards."""
    built = []

    def _build(database_url: str | None = None, **overrides):
        app = build_app(database_url or migrated_database, **overrides)
        built.append(app)
        return app

    yield _build
    for app in built:
        close_app(app)


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change the app's config."""
    return {}


def own_app_config(app_config: dict) -> dict:
    """The config of the test's own app: on SQLite its transactions begin DEFERRED.

    Its session is the test's (the test client's requests share it): a test reads between steps
    and leaves that read open while other apps, threads and live servers write, and with the
    app's BEGIN IMMEDIATE (app.persistence.sqlite) that read would hold the database write lock
    until the test ends it. Apps a test builds for concurrency (`app_factory`) begin IMMEDIATE,
    as the embedded default does.
    """
    engine = dict(app_config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    engine["execution_options"] = {"sqlite_begin": "DEFERRED", **engine.get("execution_options", {})}
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": engine}


@pytest.fixture
def app(migrated_database, app_config):
    app = build_app(migrated_database, **own_app_config(app_config))
    with app.app_context():
        yield app
        _db.session.rollback()
        _empty_all_tables()
    close_app(app)


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login_as(client):
    """login_as(user): the test client is now logged in as that user."""

    def _login(user):
        return log_in(client, user)  # a real login session row, as /login makes

    return _login


class Clock:
    """A frozen, controllable now for app.clock.utcnow (tests never sleep)."""

    def __init__(self, start: datetime):
        self.now = start
        app_clock.set_now(start)

    def set(self, when: datetime) -> datetime:
        if when.tzinfo is None:
            raise ValueError("clock.set needs an aware datetime")
        self.now = when.astimezone(UTC)
        app_clock.set_now(self.now)
        return self.now

    def advance(self, **delta) -> datetime:
        return self.set(self.now + timedelta(**delta))


@pytest.fixture
def clock():
    c = Clock(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))  # 10:00 in New York
    yield c
    app_clock.set_now(None)


@pytest.fixture
def media_root(app, tmp_path):
    """The app's photo store in this test's own folder (returned, to look at the files)."""
    app.config["MEDIA_ROOT"] = str(tmp_path / "media")
    app.extensions.pop("pawline_media_store", None)
    return tmp_path / "media"


@pytest.fixture
def make(db, clock):
    """Small factories for every model: make.booking(), make.thread(), …"""
    return Factories(db.session, clock)


@pytest.fixture
def redis_app(migrated_database, redis_url, app_config):
    """An app whose queue is RQ on the run's own Redis database."""
    from redis import Redis

    app = build_app(migrated_database, REDIS_URL=redis_url, **own_app_config(app_config))
    with app.app_context():
        yield app
        _db.session.rollback()
        _empty_all_tables()
    close_app(app)
    with Redis.from_url(redis_url) as r:
        r.flushdb()


@pytest.fixture
def twilio(app):
    """The Twilio provider, through the SDK, against the local stand-in (its requests kept)."""
    stand_in = TwilioStandIn()
    app.extensions["pawline_sms_provider"] = TwilioProvider.from_config(app.config, http_client=stand_in)
    yield stand_in
    app.extensions.pop("pawline_sms_provider", None)
