"""The sitter pages run a fixed number of SQL statements however much data the org has."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from app.extensions import db
from app.models import AssignmentWindow, Booking, Message, Pet, Thread
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
HX = {"HX-Request": "true"}


@contextmanager
def count_statements():
    """The statements the engine sends, but SQLite's own transaction start (`BEGIN IMMEDIATE`
    or, on the suite's own app, `BEGIN DEFERRED`: app.persistence.sqlite), which is not a query."""
    seen = []

    def _count(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)


def _add_bookings(make, sitter, count: int) -> None:
    """`count` confirmed bookings for the sitter over a few weeks, each with a thread and a message.

    Sixty a day, spread around today: the org's history and future grow, today stays busy.
    """
    org, number = make.default_org, make.number()
    clients = [make.client(pets=("Rex", "Mochi")) for _ in range(5)]
    for i in range(count):
        day = i // 60 - (count // 120)
        start = START - timedelta(hours=6) + timedelta(days=day, minutes=17 * (i % 60))
        client = clients[i % 5]
        booking = Booking(
            org_id=org.id,
            client_id=client.id,
            sitter_id=sitter.id,
            start_at=start,
            end_at=start + timedelta(hours=1),
            status="confirmed",
        )
        # Linked by relationship, flushed once at the end: the inserts go in batches.
        thread = Thread(
            org_id=org.id, client_id=client.id, booking=booking, scope="client_booking", message_number_id=number.id
        )
        window = AssignmentWindow(
            org_id=org.id,
            thread=thread,
            booking=booking,
            sitter_id=sitter.id,
            starts_at=start,
            ends_at=booking.end_at + timedelta(hours=1),
        )
        message = Message(
            org_id=org.id,
            thread=thread,
            direction="inbound",
            sender_kind="client",
            body="How is Rex?",
            status="received",
        )
        db.session.add_all([booking, thread, window, message])
    # Today's visits whose conversation waits for a number (no window yet): the polled Waiting list.
    for i in range(max(1, count // 50)):
        start = START + timedelta(hours=2, minutes=i)
        booking = Booking(org_id=org.id, client_id=clients[i % 5].id, sitter_id=sitter.id, start_at=start,
                          end_at=start + timedelta(hours=1), status="confirmed")
        db.session.add_all([booking, Thread(org_id=org.id, client_id=booking.client_id, booking=booking,
                                            scope="client_booking", message_number_id=None)])
    db.session.add(Pet(org_id=org.id, client_id=clients[0].id, name="Extra"))
    db.session.commit()


def _statements_for(client, urls) -> dict[str, int]:
    counts = {}
    for name, url, headers in urls:
        db.session.remove()  # a fresh session, as a real request gets: nothing cached
        with count_statements() as seen:
            assert client.get(url, headers=headers).status_code == 200, url
        counts[name] = len(seen)
    return counts


def _measure(make, clock, login_as, client, extra: int) -> tuple[dict[str, int], int]:
    clock.set(START + timedelta(minutes=30))
    visit = make_visit(make, start=START)
    for _ in range(3):
        make.message(thread=visit.thread)
    make.alert(audience="sitter", sitter_id=visit.sitter.id, text="Not sent")
    _add_bookings(make, visit.sitter, extra)
    login_as(visit.user)
    tid = visit.thread.id
    urls = [  # named by page, not by URL: the two runs have different thread ids
        ("dashboard", "/sitter", {}),
        ("active partial", "/sitter/active", HX),
        ("visits partial", "/sitter/visits", HX),
        ("alerts partial", "/sitter/alerts", HX),
        ("thread", f"/sitter/threads/{tid}", {}),
        ("messages partial", f"/sitter/threads/{tid}/messages", HX),
    ]
    return _statements_for(client, urls), visit.thread.id


def test_statement_count_is_the_same_for_10_and_1000_bookings(app_factory, make, clock, login_as, client):
    small, _ = _measure(make, clock, login_as, client, 10)
    # Start again with 100x the data for the same sitter and org.
    from tests.conftest import _empty_all_tables

    _empty_all_tables()
    make._org = None
    large, _ = _measure(make, clock, login_as, client, 1000)
    assert small == large, (small, large)
    assert max(small.values()) <= 15, small
    # The lists really did grow: the count is not constant because the page is empty.
    html = client.get("/sitter").get_data(as_text=True)
    today = html.split('id="today-heading"')[1]
    active = html.split('id="active-now"')[1].split("</section>")[0]
    assert today.count('<li class="visit-card') >= 60 and active.count('<li class="visit-card') > 5
    polled = client.get("/sitter/visits", headers=HX).get_data(as_text=True)
    assert polled.split("data-waiting-visits")[1].count('<li class="visit-card') == 20
