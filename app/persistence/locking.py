"""Row and advisory locks that serialise writers on PostgreSQL and on SQLite alike.

PostgreSQL: `SELECT … FOR UPDATE` on a row that exists, `pg_advisory_xact_lock`
on a key for something that has no row yet; both are released at commit or
rollback. SQLite has one writer at a time, and app.persistence.sqlite begins every
transaction with BEGIN IMMEDIATE: the transaction holds the database write lock from its
first statement, so a row lock and an advisory lock are no-ops there.
"""

from __future__ import annotations

import hashlib
from functools import cache

from sqlalchemy import BigInteger, bindparam, case, func, select, text
from sqlalchemy.orm import contains_eager, lazyload

from app.extensions import db

# Statements: fixed ones are module constants; one whose shape varies (the model, the
# dialect, the conflict columns) comes from a `functools.cache`d builder, built once per
# shape and executed with bound values: building one and computing its cache key cost about
# as much as its round trip to PostgreSQL.
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def is_postgresql() -> bool:
    return dialect_name() == "postgresql"


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def lock_row(model, row_id: int, *, with_org: bool = False):
    """Load one row for update (fresh from the database), or None when it does not exist.

    On SQLite the transaction already holds the database write lock (BEGIN IMMEDIATE):
    this is a plain fresh read.

    with_org: the same statement also loads the row's `org` relationship (joined; only
    the row itself is locked: FOR … UPDATE OF its table).
    """
    return db.session.scalar(_locking_select(model, with_org), {"row_id": row_id})


def lock_row_reading(model, row_id, columns: tuple, params: dict | None = None, *, with_org: bool = False):
    """`lock_row`, with more columns read by the same statement: (row, values) or (None, None).

    `columns` is a tuple of fixed SQL expressions (keep it a module constant: statements are
    cached by shape), evaluated on the locked row's snapshot; `params` binds their parameters.
    An expression calling pg_advisory_xact_lock takes that lock in the same round trip; what
    it guards must then be read by a later statement (this one's snapshot predates the lock).
    """
    result = db.session.execute(_locking_select_with(model, with_org, columns),
                                {"row_id": row_id, **(params or {})}).first()
    return (None, None) if result is None else (result[0], tuple(result[1:]))


@cache
def _locking_select_with(model, with_org: bool, columns: tuple):
    return _locking_select(model, with_org).add_columns(*columns)


@cache
def _locking_select(model, with_org: bool):
    # FOR NO KEY UPDATE: serialises writers of this row, yet lets other
    # transactions insert rows that reference it (their foreign-key checks take
    # KEY SHARE, which plain FOR UPDATE would block into a deadlock).
    # lazyload("*"): only the row's own columns. Its relationships load when used (a
    # many-to-one already in the session costs nothing), not eagerly with every lock
    # (a booking's joined client would also selectin-load the client's pets).
    query = (select(model).where(model.id == bindparam("row_id")).with_for_update(of=model, key_share=True)
             .options(lazyload("*")).execution_options(populate_existing=True))
    if with_org:
        query = query.join(model.org).options(contains_eager(model.org))
    return query


def advisory_key(*parts) -> int:
    """A signed 64-bit key for pg_advisory_xact_lock from readable parts."""
    digest = hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def advisory_lock(*parts) -> None:
    """Serialise work on something that has no row yet, until this transaction ends."""
    if is_postgresql():
        db.session.execute(_ADVISORY_LOCK, {"key": advisory_key(*parts)})


def with_advisory_locks(query, *locks):
    """`query`, also taking advisory locks in the same round trip on PostgreSQL (SQLite needs
    none). Each lock is (the name its `advisory_key` is bound as, a SQL condition or None);
    one with a condition is taken only when the condition holds (CASE evaluates lazily, and
    the lock function is volatile: never folded at planning). Taken in the order given.

    Only for reads these locks do not guard: the statement's snapshot is taken before a lock
    is granted, so it may miss what the previous holder committed. What a lock guards is
    read by a later statement.
    """
    if not is_postgresql():
        return query
    for key_name, condition in locks:
        lock = func.pg_advisory_xact_lock(bindparam(key_name, type_=BigInteger))
        query = query.add_columns(lock if condition is None else case((condition, lock)))
    return query


def _insert(dialect: str, model):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model.__table__)


@cache
def _insert_all_if_absent(dialect: str, model, conflict_columns: tuple[str, ...], returning: tuple[str, ...]):
    # executemany + RETURNING: SQLAlchemy's insertmanyvalues sends one multi-row INSERT, and
    # (unlike .values([...])) the statement is compiled once and cached.
    return (_insert(dialect, model).on_conflict_do_nothing(index_elements=list(conflict_columns))
            .returning(*(model.__table__.c[name] for name in returning)))


@cache
def _claim_row(dialect: str, model, conflict_columns: tuple[str, ...], touch: str):
    # The INSERT's columns are the keys of the values it runs with (one compiled form per set).
    table = model.__table__
    statement = (_insert(dialect, model).on_conflict_do_update(index_elements=list(conflict_columns),
                                                               set_={touch: table.c[touch]})
                 .returning(*table.c))
    return select(model).from_statement(statement).execution_options(populate_existing=True)


@cache
def _insert_if_absent(dialect: str, model, conflict_columns: tuple[str, ...]):
    return (_insert(dialect, model).on_conflict_do_nothing(index_elements=list(conflict_columns))
            .returning(model.__table__.c.id))


def insert_all_if_absent(model, conflict_columns: tuple[str, ...], rows: list[dict], *returning: str) -> list:
    """`insert_if_absent` for several rows in one statement: the `returning` columns of the
    rows this call created (in no particular order); rows that existed are left alone."""
    statement = _insert_all_if_absent(dialect_name(), model, conflict_columns, returning)
    return list(db.session.execute(statement, rows))


def claim_row(model, conflict_columns: tuple[str, ...], *, touch: str = "status", **values):
    """Insert the row unless it exists, and hold its row lock until this transaction ends: the
    row as an ORM object (fresh from the database), in one round trip.

    INSERT … ON CONFLICT DO UPDATE SET <touch> = <touch> RETURNING *: a conflict updates the
    existing row to itself, which locks it (FOR NO KEY UPDATE strength, as lock_row, when
    `touch` is not a key column) and waits for a concurrent inserter to commit first, as
    "insert if absent, then SELECT … FOR UPDATE" does in two.
    """
    return db.session.scalars(_claim_row(dialect_name(), model, conflict_columns, touch), values).one()


def insert_if_absent(model, conflict_columns: tuple[str, ...], **values) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new id, or None when the row existed.

    The unique constraint decides, so two writers racing past a "does it exist?"
    check can never both create the row.
    """
    return db.session.execute(_insert_if_absent(dialect_name(), model, conflict_columns), values).scalar()


def insert_if_absent_committed(model, conflict_columns: tuple[str, ...], **values) -> int | None:
    """`insert_if_absent` as a transaction of its own, outside the session: the one statement
    commits as it runs (autocommit), one round trip where BEGIN, INSERT and COMMIT make three.
    For a request whose only write is this row (a webhook storing what it received)."""
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn.execute(_insert_if_absent(conn.dialect.name, model, conflict_columns), values).scalar()
