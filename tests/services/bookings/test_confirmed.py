"""The booking-confirmed handler: one thread, one number, one window, one confirmation."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import (
    Alert,
    AssignmentWindow,
    AutomationRun,
    Booking,
    Client,
    EventLog,
    MessageNumber,
    OutboxEntry,
    Thread,
)
from app.services.bookings.confirmed import on_booking_confirmed


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def events(booking_id: int) -> list[str]:
    return list(db.session.scalars(select(EventLog.kind).where(EventLog.booking_id == booking_id)
                                   .order_by(EventLog.id)))


def outbox() -> list[OutboxEntry]:
    db.session.rollback()  # the send job wrote from its own session
    return list(db.session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def test_confirming_twice_gives_one_thread_window_number_and_confirmation(make, clock):
    pool = make.number("pool")
    booking = make.booking(sitter=None)

    first = on_booking_confirmed(booking.id)
    assert first.confirmed_now and first.thread_created and first.window_created
    assert (first.number_id, first.number_reason) == (pool.id, "pool_lru")
    db.session.refresh(pool)
    stamped = pool.last_assigned_at
    assert stamped == clock.now and pool.assignment_count == 1
    events_after_first = events(booking.id)

    clock.advance(minutes=5)
    second = on_booking_confirmed(booking.id)
    assert not (second.confirmed_now or second.thread_created or second.window_created
                or second.window_updated or second.number_assigned)
    assert (second.thread_id, second.number_id, second.window_id) == (
        first.thread_id, first.number_id, first.window_id)
    db.session.refresh(pool)
    assert pool.last_assigned_at == stamped and pool.assignment_count == 1
    assert events(booking.id) == events_after_first  # nothing logged for what was reused
    assert sorted(events_after_first) == sorted(
        ["booking.confirmed", "thread.created", "number.assigned", "window.created"])
    assert count(Thread) == 1 and count(AssignmentWindow) == 1
    sent = outbox()
    assert len(sent) == 1
    assert sent[0].from_e164 == pool.e164 and sent[0].to_e164 == booking.client.phone_e164
    assert "confirmed" in sent[0].body
    assert db.session.get(Booking, booking.id).status == "confirmed"


def test_window_runs_from_start_to_end_plus_grace(make):
    make.number("pool")
    org = make.default_org
    org.grace_minutes = 30
    db.session.commit()
    booking = make.booking(hours=2, sitter=None)
    on_booking_confirmed(booking.id)
    window = db.session.scalar(select(AssignmentWindow))
    assert window.starts_at == booking.start_at
    assert window.ends_at == booking.end_at + timedelta(minutes=30)
    assert window.sitter_id == booking.sitter_id


def test_repeat_call_updates_the_window_only_when_the_booking_changed(make):
    make.number("pool")
    booking = make.booking(sitter=None)
    on_booking_confirmed(booking.id)
    booking.end_at += timedelta(hours=1)
    db.session.commit()
    result = on_booking_confirmed(booking.id)
    assert result.window_updated and not result.window_created
    window = db.session.scalar(select(AssignmentWindow))
    assert window.ends_at == booking.end_at + timedelta(minutes=60)
    assert events(booking.id).count("window.updated") == 1


def test_sitter_dedicated_number_comes_first(make):
    make.number("front_desk")
    make.number("pool")
    booking = make.booking(sitter=make.sitter(with_login=False))
    dedicated = make.number("sitter", sitter_id=booking.sitter_id)
    result = on_booking_confirmed(booking.id)
    assert (result.number_id, result.number_reason) == (dedicated.id, "sitter_dedicated")


def test_inactive_dedicated_number_falls_back_to_the_pool(make):
    pool = make.number("pool")
    booking = make.booking(sitter=make.sitter(with_login=False))
    make.number("sitter", sitter_id=booking.sitter_id, active=False)
    result = on_booking_confirmed(booking.id)
    assert (result.number_id, result.number_reason) == (pool.id, "pool_lru")


def _advisory_locks_held(*keys_parts) -> list[bool]:
    from sqlalchemy import text

    from app.persistence.locking import advisory_key

    held = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                " AND ((classid::bigint << 32) | objid::bigint) = :key")
    return [db.session.scalar(held, {"key": advisory_key(*parts)}) == 1 for parts in keys_parts]


@pytest.mark.postgres_only
@pytest.mark.parametrize("sitter_number", [False, True])
def test_number_choice_takes_the_client_lock_and_the_pool_lock_only_for_the_pool(make, sitter_number):
    from app.persistence.locking import lock_row
    from app.services.numbers.choice import choose_masking_number

    make.number("pool")
    booking = make.booking(sitter=make.sitter(with_login=False))
    if sitter_number:
        make.number("sitter", sitter_id=booking.sitter_id)
    db.session.commit()
    locked = lock_row(Booking, booking.id)
    choice = choose_masking_number(locked)
    assert choice.reason == ("sitter_dedicated" if sitter_number else "pool_lru")
    client_lock, pool_lock = _advisory_locks_held(("client", booking.org_id, booking.client_id),
                                                  ("pool", booking.org_id))
    db.session.rollback()
    assert client_lock and pool_lock is not sitter_number


def test_pool_is_least_recently_assigned_never_used_first_then_lowest_id(make, clock):
    used_long_ago = make.number("pool", last_assigned_at=clock.now - timedelta(days=3))
    used_lately = make.number("pool", last_assigned_at=clock.now - timedelta(hours=1))
    never_a = make.number("pool")
    never_b = make.number("pool")
    make.number("pool", active=False)
    picked = []
    for _ in range(5):
        clock.advance(minutes=1)
        picked.append(on_booking_confirmed(make.booking(sitter=None).id).number_id)
    assert picked == [never_a.id, never_b.id, used_long_ago.id, used_lately.id, never_a.id]


def test_one_client_with_overlapping_bookings_gets_two_numbers(make):
    make.number("pool")
    make.number("pool")
    client = make.client()
    first = make.booking(client=client, sitter=None)
    second = make.booking(client=client, start=first.start_at + timedelta(minutes=30), sitter=None)
    a, b = on_booking_confirmed(first.id), on_booking_confirmed(second.id)
    assert a.number_id != b.number_id
    assert {a.number_reason, b.number_reason} == {"pool_lru"}


def test_pool_number_carrying_the_clients_open_thread_is_skipped_for_front_desk(make):
    pool = make.number("pool")
    desk = make.number("front_desk")
    client = make.client()
    a = on_booking_confirmed(make.booking(client=client, sitter=None).id)
    b = on_booking_confirmed(make.booking(client=client, sitter=None).id)
    assert (a.number_id, b.number_id, b.number_reason) == (pool.id, desk.id, "front_desk")


def test_pool_number_is_reused_for_the_client_once_the_other_thread_is_closed(make, clock):
    pool = make.number("pool")
    make.number("front_desk")
    client = make.client()
    old = make.booking(client=client, start=clock.now - timedelta(days=2), sitter=None)
    on_booking_confirmed(old.id)  # its window ended long ago: no longer open
    later = on_booking_confirmed(make.booking(client=client, sitter=None).id)
    assert later.number_id == pool.id


def test_front_desk_when_there_is_no_sitter_or_pool_number(make):
    desk = make.number("front_desk")
    result = on_booking_confirmed(make.booking(sitter=None).id)
    assert (result.number_id, result.number_reason) == (desk.id, "front_desk")
    assert outbox()[0].from_e164 == desk.e164


def test_no_number_confirms_the_booking_and_its_thread_waits_then_repairs(make):
    booking = make.booking(sitter=None)
    result = on_booking_confirmed(booking.id)
    assert result.no_number and result.status == "confirmed"
    assert db.session.get(Booking, booking.id).status == "confirmed"
    thread = db.session.scalar(select(Thread))
    assert (thread.booking_id, thread.message_number_id, thread.number_reason) == (booking.id, None, "waiting")
    assert count(AssignmentWindow) == 0 and count(AutomationRun) == 0  # nothing goes out yet
    assert outbox() == []
    assert events(booking.id) == ["booking.confirmed", "thread.created", "booking.no_number"]
    alerts = db.session.scalars(select(Alert).order_by(Alert.id)).all()
    assert [(a.audience, a.kind, a.booking_id) for a in alerts] == [
        ("owner", "booking.no_number", booking.id), ("owner", "numbers.pool_short", booking.id)]
    assert alerts[0].text.startswith("Add a front-desk or pool number")

    on_booking_confirmed(booking.id)  # still nothing: owners are not alerted twice
    assert count(Alert) == 2 and count(Thread) == 1

    desk = make.number("front_desk")
    repaired = on_booking_confirmed(booking.id)
    assert not repaired.no_number and repaired.number_assigned and repaired.window_created
    assert not repaired.thread_created and repaired.thread_id == thread.id
    assert repaired.number_id == desk.id
    db.session.rollback()
    assert db.session.scalar(select(Alert.resolved_at).where(Alert.kind == "booking.no_number")) is not None
    assert [e.from_e164 for e in outbox()] == [desk.e164]


def test_cancelled_booking_stays_cancelled_and_the_no_op_is_recorded(make):
    make.number("pool")
    booking = make.booking(status="cancelled", sitter=None)
    result = on_booking_confirmed(booking.id, actor="stripe")
    assert result.ignored == "cancelled" and result.status == "cancelled"
    assert db.session.get(Booking, booking.id).status == "cancelled"
    assert count(Thread) == 0 and outbox() == []
    assert events(booking.id) == ["booking.confirm_ignored"]


def test_unknown_booking_is_not_found(app):
    from app.errors import NotFound

    with pytest.raises(NotFound):
        on_booking_confirmed(424242)


def _statements_for(fn) -> int:
    seen = []

    def count_statement(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count_statement)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count_statement)
    return len(seen)


def test_statement_count_of_a_confirmation_does_not_grow_with_the_org(make, clock):
    for _ in range(3):
        make.number("pool")
    make.number("front_desk")
    first = make.booking(sitter=None)
    small = _statements_for(lambda: on_booking_confirmed(first.id))

    org, now = make.default_org, clock.now
    for i in range(12):  # a bigger org: more numbers, clients, bookings, threads, windows
        db.session.add(MessageNumber(org_id=org.id, kind="pool", e164=f"+1202555{1000 + i}",
                                     last_assigned_at=now - timedelta(minutes=i)))
    db.session.flush()
    numbers = db.session.scalars(select(MessageNumber.id)).all()
    client = make.client()
    for i in range(30):
        owner = client if i % 10 == 0 else Client(org_id=org.id, name=f"C{i}", phone_e164=f"+1202556{1000 + i}")
        db.session.add(owner)
        db.session.flush()
        booking = Booking(org_id=org.id, client_id=owner.id, start_at=now + timedelta(hours=i),
                          end_at=now + timedelta(hours=i + 1), status="confirmed")
        db.session.add(booking)
        db.session.flush()
        thread = Thread(org_id=org.id, client_id=owner.id, booking_id=booking.id, scope="client_booking",
                        message_number_id=numbers[i % len(numbers)])
        db.session.add(thread)
        db.session.flush()
        db.session.add(AssignmentWindow(org_id=org.id, thread_id=thread.id, booking_id=booking.id,
                                        starts_at=booking.start_at, ends_at=booking.end_at))
    db.session.commit()
    last = make.booking(client=client, sitter=None)
    large = _statements_for(lambda: on_booking_confirmed(last.id))
    assert large == small
    assert small <= 50  # lock, choose, insert, plan, commit, and the inline send jobs


def _confirm_in_threads(app, booking_ids, barrier_size):
    barrier = threading.Barrier(barrier_size)
    errors, results = [], []

    def work(booking_id):
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                results.append(on_booking_confirmed(booking_id))
        except Exception as exc:  # collected: the test asserts none escaped
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(bid,)) for bid in booking_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


POOL_ENOUGH = {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 25, "max_overflow": 5, "pool_timeout": 60}}


@pytest.mark.postgres_only
def test_twenty_concurrent_confirmations_of_one_booking_make_one_of_everything(app_factory, make, db):
    pool = make.number("pool")
    make.number("pool")
    booking = make.booking(sitter=None)
    other = app_factory(**POOL_ENOUGH)

    results, errors = _confirm_in_threads(other, [booking.id] * 20, 20)

    assert errors == [] and len(results) == 20
    assert sum(r.thread_created for r in results) == 1
    assert sum(r.window_created for r in results) == 1
    assert sum(r.confirmed_now for r in results) == 1
    assert len({r.thread_id for r in results}) == 1 and len({r.number_id for r in results}) == 1
    assert count(Thread) == 1 and count(AssignmentWindow) == 1
    assert count(AutomationRun, AutomationRun.kind == "booking_confirmation") == 1
    numbers = db.session.scalars(select(MessageNumber).order_by(MessageNumber.id)).all()
    assert [n.assignment_count for n in numbers] == [1, 0] and numbers[0].id == pool.id
    assert len(outbox()) == 1
    assert events(booking.id).count("thread.created") == 1


@pytest.mark.postgres_only
def test_twenty_clients_at_once_share_a_pool_of_three_round_robin(app_factory, make, db):
    pool = [make.number("pool") for _ in range(3)]
    bookings = [make.booking(sitter=None) for _ in range(20)]  # 20 different clients
    other = app_factory(**POOL_ENOUGH)

    results, errors = _confirm_in_threads(other, [b.id for b in bookings], 20)

    assert errors == [] and len(results) == 20
    db.session.rollback()
    counts = sorted(db.session.scalar(select(MessageNumber.assignment_count)
                                      .where(MessageNumber.id == n.id)) for n in pool)
    assert counts == [6, 7, 7]
    per_number = db.session.execute(
        select(Thread.message_number_id, func.count()).group_by(Thread.message_number_id)).all()
    assert sorted(c for _, c in per_number) == [6, 7, 7]
    pairs = db.session.execute(select(Thread.message_number_id, Thread.client_id)).all()
    assert len(pairs) == len(set(pairs)) == 20


@pytest.mark.postgres_only
def test_one_client_many_bookings_at_once_never_share_a_pool_number(app_factory, make, db):
    for _ in range(3):
        make.number("pool")
    desk = make.number("front_desk")
    client = make.client()
    bookings = [make.booking(client=client, sitter=None) for _ in range(5)]
    other = app_factory(**POOL_ENOUGH)

    results, errors = _confirm_in_threads(other, [b.id for b in bookings], 5)

    assert errors == []
    pool_numbers = [r.number_id for r in results if r.number_reason == "pool_lru"]
    assert len(pool_numbers) == len(set(pool_numbers)) == 3
    # One number, one conversation: the front desk takes one more, the fifth waits for a number.
    assert [r.number_id for r in results if r.number_reason == "front_desk"] == [desk.id]
    assert sum(r.no_number for r in results) == 1
