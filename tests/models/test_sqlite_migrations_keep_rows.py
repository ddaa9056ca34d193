"""Upgrading a SQLite database keeps every org's rows (a batch migration rebuilds `orgs`; with
foreign keys on, dropping the old table would cascade to everything that belongs to an org)."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db

BEFORE_ORG_REBUILDS = "0005_bounds"  # 0011_numbers and 0011_consent rebuild `orgs` on SQLite


@pytest.fixture
def old_sqlite_database(tmp_path, request):
    if request.config.getoption("--db") != "sqlite":
        pytest.skip("SQLite's table rebuilds only")
    app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"})
    with app.app_context():
        upgrade(revision=BEFORE_ORG_REBUILDS)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO orgs (id, name, timezone, grace_minutes, quiet_start_hour, quiet_end_hour,"
                              " policy_mode, visit_followup_enabled, currency, created_at) VALUES (1, 'Happy Tails',"
                              " 'America/New_York', 60, 21, 8, 'block', 1, 'usd', '2026-01-01 00:00:00')"))
            conn.execute(text("INSERT INTO clients (id, org_id, name, phone_e164, opted_out, created_at) "
                              "VALUES (1, 1, 'Alex Morgan', '+12025550147', 0, '2026-01-01 00:00:00')"))
            conn.execute(text("INSERT INTO event_logs (org_id, kind, actor, payload, created_at) "
                              "VALUES (1, 'client.created', 'user:1', '{\"client_id\": 1}', '2026-01-01 00:00:00')"))
        yield app
        db.engine.dispose()


def test_upgrading_to_head_keeps_every_orgs_rows(old_sqlite_database):
    with old_sqlite_database.app_context():
        upgrade()
        with db.engine.connect() as conn:
            counts = [conn.scalar(text(f"SELECT count(*) FROM {table}")) for table in ("orgs", "clients", "event_logs")]
            org = conn.execute(text("SELECT quiet_start_hour, front_desk_only FROM orgs")).one()
            foreign_keys = conn.scalar(text("PRAGMA foreign_keys"))
    assert counts == [1, 1, 1]
    assert tuple(org) == (20, 0)  # the old 9 p.m. default, never changed: the new 8 p.m. one
    assert foreign_keys == 1  # back on for the app
