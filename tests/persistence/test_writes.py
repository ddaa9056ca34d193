"""A transaction that wrote, however it wrote, holds its jobs until it commits (no call to remember)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update

from app.extensions import db
from app.jobs.queue import enqueue
from app.jobs.specs import JobSpec
from app.models import EventLog, Org, StripeEvent
from app.persistence.locking import insert_if_absent, lock_row
from app.services.audit.events import record_event

RAN: list[str] = []
NOTE_RAN = JobSpec("tests.persistence.test_writes.note_ran")


def note_ran(tag: str) -> None:
    """A job for these tests: says it ran (the embedded queue runs it inline)."""
    RAN.append(tag)


def _core_update(org):
    db.session.execute(update(Org).where(Org.id == org.id).values(name="Renamed"))


def _core_table_update(org):
    db.session.execute(update(Org.__table__).where(Org.__table__.c.id == org.id).values(name="Renamed"))


def _raw_sql_update(org):
    db.session.execute(text("UPDATE orgs SET name = 'Renamed' WHERE id = :id"), {"id": org.id})


def _insert_on_conflict(org):
    insert_if_absent(StripeEvent, ("id",), id="evt_writes_1", type="x", status="ignored", attempts=0,
                     created_at=org.created_at, payload="{}")


def _audit_row(org):
    record_event(org.id, "test.written")


@pytest.fixture
def org(app, make):
    org = make.default_org
    db.session.commit()
    RAN.clear()
    return org


@pytest.mark.parametrize("write", [_core_update, _core_table_update, _raw_sql_update, _insert_on_conflict,
                                   _audit_row])
def test_a_job_queued_after_any_write_waits_for_the_commit(org, write):
    write(org)
    enqueue(NOTE_RAN, "after commit")
    assert RAN == []  # a worker (or the inline queue) must not act before the rows exist
    db.session.commit()
    assert RAN == ["after commit"]


@pytest.mark.parametrize("write", [_core_update, _raw_sql_update, _audit_row])
def test_a_job_queued_after_a_write_is_dropped_with_its_rollback(org, write):
    write(org)
    enqueue(NOTE_RAN, "never")
    db.session.rollback()
    db.session.commit()
    assert RAN == []
    assert db.session.scalar(select(func.count()).select_from(EventLog)) == 0


def test_a_job_queued_after_reads_only_goes_at_once(org):
    db.session.scalar(select(Org.name).where(Org.id == org.id))
    db.session.execute(text("SELECT 1"))
    enqueue(NOTE_RAN, "at once")
    assert RAN == ["at once"]  # nothing to wait for: a read-only transaction may never commit


def test_a_row_lock_on_sqlite_holds_inline_jobs_until_the_transaction_ends(org, app_factory):
    org_id = org.id  # read here: inside the other app a test-side read would use its engine, IMMEDIATE
    embedded = app_factory()  # begins IMMEDIATE on SQLite, as the embedded default does
    with embedded.app_context():
        lock_row(Org, org_id)  # SQLite: the transaction holds the database write lock; PostgreSQL: the row's
        enqueue(NOTE_RAN, "locked")
        if db.engine.dialect.name == "sqlite":
            # An inline job writing now would wait on our write lock: it runs when we are done.
            assert RAN == []
        db.session.commit()
        assert RAN == ["locked"]
        db.session.remove()


def test_a_read_only_transaction_on_sqlite_lets_its_inline_jobs_run_however_it_ends(org, app_factory):
    org_id = org.id
    embedded = app_factory()
    with embedded.app_context():
        db.session.scalar(select(Org.name).where(Org.id == org_id))
        enqueue(NOTE_RAN, "after the read")
        db.session.rollback()  # nothing was written: the job never depended on this transaction
        assert RAN == ["after the read"]
        db.session.remove()
