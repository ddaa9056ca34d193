"""Requests that read, then write, at the same moment never fail a person (issue 28).

On SQLite a deferred transaction that read before another connection committed cannot write
afterwards: SQLITE_BUSY_SNAPSHOT, "database is locked" at once, whatever the busy timeout. Every
SQLite transaction therefore begins with BEGIN IMMEDIATE (app.persistence.sqlite). Two logins
(each reads the user, checks the password, then writes its login session) through a real threaded
server, many times over: with a deferred BEGIN some answer 500; with the recipe none may.
"""

from __future__ import annotations

import threading

import requests
from sqlalchemy import create_engine, inspect

from app.extensions import db
from app.persistence.sqlite import configure_sqlite
from tests.support.factories import PASSWORD
from tests.support.live_server import serving

ROUNDS = 10  # with a deferred BEGIN nearly every round has a 500


def _logins_at_once(base_url: str, emails: list[str]) -> list[int]:
    """POST /login for every email at once (released together); each answer's status."""
    gate = threading.Barrier(len(emails))
    statuses: list[int] = [0] * len(emails)

    def log_in(i: int) -> None:
        with requests.Session() as http:
            gate.wait(timeout=30)
            answer = http.post(f"{base_url}/login", data={"email": emails[i], "password": PASSWORD},
                               allow_redirects=False, timeout=60)
            statuses[i] = answer.status_code

    threads = [threading.Thread(target=log_in, args=(i,)) for i in range(len(emails))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return statuses


def test_two_logins_at_once_never_answer_500(app_factory, make):
    owners = [make.user(role="owner"), make.user(role="owner")]
    emails = [owner.email for owner in owners]
    db.session.commit()  # the test's own read ends here: it must not hold the write lock meanwhile
    server_app = app_factory(SERVER_NAME=None)
    with serving(server_app) as base_url:
        answers = [_logins_at_once(base_url, emails) for _ in range(ROUNDS)]
    assert all(statuses == [302, 302] for statuses in answers), answers


def test_ddl_and_savepoints_are_transactional_on_sqlite(tmp_path):
    """The recipe's other half: pysqlite emits no BEGIN or COMMIT of its own, so a rollback undoes
    DDL (Alembic migrates with transactional_ddl on SQLite) and a savepoint rolls back alone."""
    engine = create_engine(f"sqlite:///{tmp_path / 'ddl.sqlite3'}")
    configure_sqlite(engine)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE probe (id INTEGER PRIMARY KEY)")
            conn.rollback()
            assert not inspect(conn).has_table("probe")
            conn.rollback()
            conn.exec_driver_sql("CREATE TABLE kept (id INTEGER PRIMARY KEY)")
            with conn.begin_nested() as savepoint:
                conn.exec_driver_sql("INSERT INTO kept (id) VALUES (1)")
                savepoint.rollback()
            conn.exec_driver_sql("INSERT INTO kept (id) VALUES (2)")
            conn.commit()
            assert conn.exec_driver_sql("SELECT id FROM kept").scalars().all() == [2]
    finally:
        engine.dispose()
