"""Whether a session's transaction has written: one set of SQLAlchemy events, no call to remember.

Jobs enqueued in a transaction that wrote wait for its commit (app.jobs.queue), and a
SQLite lock ends a read-only transaction before it writes (app.persistence.locking). An
ORM flush says so by itself; statements executed through `Session.execute` (Core INSERT …
ON CONFLICT, UPDATE … RETURNING, raw `text()`) pass `do_orm_execute`; rows a module writes
at commit (`write_at_commit`: the audit log) count from the moment they are added.
"""

from __future__ import annotations

from sqlalchemy import TextClause, event
from sqlalchemy.orm import ORMExecuteState, Session

_WROTE = "wrote"
_AT_COMMIT = "rows_at_commit"  # {statement: [rows]}, executed by before_commit in that order


def has_uncommitted_writes(session: Session) -> bool:
    # A read-only transaction may simply be closed later: only writes defer a job.
    return bool(session.info.get(_WROTE) or session.info.get(_AT_COMMIT)
                or session.new or session.dirty or session.deleted)


def write_at_commit(session: Session, statement, row: dict) -> None:
    """Execute `statement` with `row` when the transaction commits, after the session's other
    changes, all of one statement's rows at once (one multi-row INSERT); a rollback drops them."""
    session.info.setdefault(_AT_COMMIT, {}).setdefault(statement, []).append(row)


def _is_write(state: ORMExecuteState) -> bool:
    statement = state.statement
    if statement.is_dml:  # also select(Model).from_statement(insert(...)…)
        return True
    if isinstance(statement, TextClause):
        # Raw SQL: anything but a plain read (SELECT, which also takes advisory locks here).
        return not statement.text.lstrip().upper().startswith("SELECT")
    return False


@event.listens_for(Session, "do_orm_execute")
def _mark_executed_write(state: ORMExecuteState) -> None:
    if _is_write(state):
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_flush")
def _mark_flushed(session: Session, flush_context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "before_commit")
def _write_rows_at_commit(session: Session) -> None:
    pending = session.info.pop(_AT_COMMIT, None)
    if pending:
        # Flush first: the rows may name objects still pending in the session.
        session.flush()
        for statement, rows in pending.items():
            session.execute(statement, rows)


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    session.info.pop(_WROTE, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_after_end(session, transaction) -> None:
    if transaction.parent is None:
        # Committed (already forgotten), rolled back or closed: rows not written never will be.
        session.info.pop(_AT_COMMIT, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # only the outermost rollback ends the unit of work
        session.info.pop(_WROTE, None)
