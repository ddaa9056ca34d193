"""Row-level building blocks for services that must be right under concurrency.

`insert_ignoring_conflict` is `INSERT … ON CONFLICT DO NOTHING` on PostgreSQL and
SQLite alike; `lock_row` is `SELECT … FOR UPDATE` (SQLite has one writer at a
time, so there the write lock taken by the first write serialises instead).
"""

from __future__ import annotations

from sqlalchemy import inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db


def insert_ignoring_conflict(model, values: dict, conflict_columns: list[str], where=None) -> bool:
    """Insert one row unless one with the same conflict columns exists; True if inserted.

    `where` names a partial unique index's condition (it must match the index).
    """
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(model).values(**values).on_conflict_do_nothing(
        index_elements=conflict_columns, index_where=where)
    return db.session.execute(statement).rowcount == 1


def lock_row(model, ident):
    """The row with this primary key, freshly read and locked until the transaction ends."""
    key = inspect(model).primary_key[0]
    query = (select(model).where(key == ident).with_for_update(of=model)
             .execution_options(populate_existing=True))
    return db.session.scalar(query)
