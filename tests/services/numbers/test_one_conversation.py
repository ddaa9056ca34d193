"""One number, one conversation: a client's open threads never share a number; with none left the
thread waits (nothing shared silently), owners are told what to add, and adding or freeing a number
finishes the setup and sends the held confirmation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Alert, AssignmentWindow, AutomationRun, Booking, OutboxEntry, Thread
from app.services.bookings.confirmed import on_booking_confirmed
from app.services.bookings.lifecycle import cancel_booking
from app.services.numbers.admin import add_number
from app.services.numbers.waiting import assign_waiting_threads
from app.services.ops.reconcile import reconcile
from tests.services.bookings.test_confirmed import _confirm_in_threads


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def outbox() -> list[OutboxEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def thread_of(booking_id: int) -> Thread:
    db.session.rollback()
    return db.session.scalar(select(Thread).where(Thread.booking_id == booking_id))


def open_alerts(kind: str) -> list[Alert]:
    db.session.rollback()
    return list(db.session.scalars(select(Alert).where(Alert.kind == kind, Alert.resolved_at.is_(None))))


@pytest.fixture
def two_visits_at_once(make):
    """Alex Morgan: a dog walk with one sitter and a cat visit with another, at the same time."""
    alex = make.client(name="Alex Morgan")
    walk = make.booking(client=alex, service="Dog walk")
    cat = make.booking(client=alex, start=walk.start_at, service="Cat visit")
    return walk, cat


def test_front_desk_only_second_visit_waits_instead_of_sharing(make, two_visits_at_once):
    desk = make.number("front_desk")
    walk, cat = two_visits_at_once
    first = on_booking_confirmed(walk.id)
    second = on_booking_confirmed(cat.id)

    assert first.number_id == desk.id
    assert second.no_number and second.status == "confirmed" and second.number_id is None
    waiting = thread_of(cat.id)
    assert waiting is not None and waiting.message_number_id is None
    assert count(AssignmentWindow, AssignmentWindow.booking_id == cat.id) == 0
    assert count(AutomationRun, AutomationRun.booking_id == cat.id) == 0
    assert [e.from_e164 for e in outbox()] == [desk.e164]  # the cat visit's confirmation is held
    (alert,) = open_alerts("booking.no_number")
    assert alert.booking_id == cat.id and alert.audience == "owner"
    assert alert.text.startswith("Add a pool number: Alex Morgan has 2 visits at once")


def test_adding_a_pool_number_gives_the_waiting_thread_one_and_sends_the_held_confirmation(
        make, two_visits_at_once):
    make.number("front_desk")
    walk, cat = two_visits_at_once
    on_booking_confirmed(walk.id)
    on_booking_confirmed(cat.id)

    pool = add_number(walk.org_id, e164="+1 202 555 0188", kind="pool")

    thread = thread_of(cat.id)
    assert thread.message_number_id == pool.id and thread.number_reason == "pool_lru"
    assert count(AssignmentWindow, AssignmentWindow.booking_id == cat.id) == 1
    sent = outbox()
    assert [e.from_e164 for e in sent][-1] == "+12025550188"
    assert "Cat visit" in sent[-1].body or len(sent) == 2
    assert open_alerts("booking.no_number") == []  # dealt with


def test_cancelling_one_visit_frees_its_number_for_the_waiting_one(make, two_visits_at_once):
    desk = make.number("front_desk")
    walk, cat = two_visits_at_once
    on_booking_confirmed(walk.id)
    on_booking_confirmed(cat.id)

    cancel_booking(walk.id, "client asked")

    assert thread_of(cat.id).message_number_id == desk.id
    assert outbox()[-1].from_e164 == desk.e164 and outbox()[-1].to_e164 == db.session.get(
        Booking, cat.id).client.phone_e164


def test_a_window_ending_frees_the_number_at_the_next_reconcile(make, clock):
    desk = make.number("front_desk")
    alex = make.client(name="Alex Morgan")
    now_visit = make.booking(client=alex, start=clock.now - timedelta(minutes=30))
    later = make.booking(client=alex, start=clock.now + timedelta(hours=3))
    on_booking_confirmed(now_visit.id)
    assert on_booking_confirmed(later.id).no_number

    assert assign_waiting_threads(alex.org_id) == 0  # still taken
    clock.advance(hours=2)  # the first window (end + one hour's grace) is over
    report = reconcile()
    assert report.counts.get("waiting_threads") == 1
    assert thread_of(later.id).message_number_id == desk.id


def test_a_sitters_own_number_is_skipped_when_the_client_already_talks_on_it(make):
    sasha = make.sitter(name="Sasha Lee")
    own = make.number("sitter", sitter_id=sasha.id)
    pool = make.number("pool")
    alex = make.client()
    walk = make.booking(client=alex, sitter=sasha)
    cat = make.booking(client=alex, sitter=sasha, start=walk.start_at)
    a, b = on_booking_confirmed(walk.id), on_booking_confirmed(cat.id)
    assert (a.number_id, a.number_reason) == (own.id, "sitter_dedicated")
    assert (b.number_id, b.number_reason) == (pool.id, "pool_lru")


def test_front_desk_is_skipped_like_the_pool(make):
    make.number("pool")
    desk = make.number("front_desk")
    alex = make.client()
    results = [on_booking_confirmed(make.booking(client=alex, sitter=None).id) for _ in range(3)]
    assert [r.number_reason for r in results] == ["pool_lru", "front_desk", None]
    assert results[1].number_id == desk.id and results[2].no_number


def test_the_first_wait_of_a_week_raises_one_pool_alert(make, clock):
    make.number("front_desk")
    alex, sam = make.client(), make.client()
    for customer in (alex, sam):
        first = make.booking(client=customer, sitter=None)
        on_booking_confirmed(first.id)
        assert on_booking_confirmed(make.booking(client=customer, sitter=None, start=first.start_at).id).no_number
    (weekly,) = open_alerts("numbers.pool_short")
    assert "k pool numbers" in weekly.text
    clock.advance(days=7)
    bob = make.client()
    first = make.booking(client=bob, sitter=None)
    on_booking_confirmed(first.id)
    on_booking_confirmed(make.booking(client=bob, sitter=None, start=first.start_at).id)
    assert len(open_alerts("numbers.pool_short")) == 2


def _confirm_at_once(app, booking_ids):
    return _confirm_in_threads(app, booking_ids, len(booking_ids))


@pytest.mark.postgres_only
@pytest.mark.parametrize("numbers", [("front_desk",), ("pool", "front_desk"), ("sitter", "pool")])
def test_two_visits_of_one_client_confirmed_at_once_never_share_a_number(app_factory, make, numbers):
    other = app_factory(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 5})
    for round_ in range(5):
        org = make.org()  # each round its own business and numbers
        sitter = make.sitter(org=org, with_login=False)
        for kind in numbers:
            make.number(kind, org=org, **({"sitter_id": sitter.id} if kind == "sitter" else {}))
        alex = make.client(org=org)
        walk = make.booking(org=org, client=alex, sitter=sitter)
        cat = make.booking(org=org, client=alex, sitter=sitter, start=walk.start_at)

        results, errors = _confirm_at_once(other, [walk.id, cat.id])

        assert errors == [] and len(results) == 2, round_
        db.session.rollback()
        given = db.session.scalars(select(Thread.message_number_id).where(Thread.client_id == alex.id)).all()
        assert len(given) == 2
        numbered = [n for n in given if n is not None]
        assert len(numbered) == len(set(numbered)), f"round {round_}: a number is shared"
        assert len(numbered) == min(2, len(numbers))


def test_a_new_sitter_with_their_own_number_ends_the_wait(make, two_visits_at_once):
    from app.services.bookings.lifecycle import change_sitter

    make.number("front_desk")
    walk, cat = two_visits_at_once
    on_booking_confirmed(walk.id)
    assert on_booking_confirmed(cat.id).no_number
    jo = make.sitter(with_login=False)
    own = make.number("sitter", sitter_id=jo.id)

    change_sitter(cat.id, jo.id)

    assert thread_of(cat.id).message_number_id == own.id
    assert outbox()[-1].from_e164 == own.e164
