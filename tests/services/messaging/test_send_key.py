"""A retried send is never sent twice: the compose form's one-time key (issue 29).

The defect: an upload reached the server but its answer was lost (a timeout after the upload
finished, a connection cut on the way back); Retry sent the text and its photos a second time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Message, MessageMedia, OutboxEntry
from app.services.media.outbound import Upload
from app.services.messaging import sitter_messages
from app.services.messaging.sitter_messages import SendKeyUsed, send_sitter_message
from tests.services.accounts.test_one_time_races import race
from tests.support.media_stand_in import photo_bytes
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York
KEY = "k3y-of-one-draft-0123456789abcdef"
OTHER_KEY = "another-draft-key-0123456789abcd"


@pytest.fixture
def visit(make, clock, media_root):
    clock.set(START + timedelta(minutes=10))
    return make_visit(make, start=START, hours=1)


def _rows(model, **where):
    db.session.rollback()  # see what the inline send job committed
    return db.session.scalars(select(model).filter_by(**where).order_by(model.id)).all()


def _files(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_the_same_key_twice_makes_one_message_and_one_send(visit, clock):
    first = send_sitter_message(visit.user.id, visit.thread.id, "On my way", send_key=KEY)
    clock.advance(minutes=10)  # long after the same-tap check would have let it through
    again = send_sitter_message(visit.user.id, visit.thread.id, "On my way", send_key=KEY)
    assert again.message_id == first.message_id and again.repeated and not first.repeated
    assert again.status == "sent" and again.notice == "Already sent; it was not sent twice."
    [message] = _rows(Message)
    assert message.send_key == KEY
    assert len(_rows(OutboxEntry)) == 1


@pytest.mark.parametrize("status, notice", [
    ("queued", "Already queued to send; it was not sent twice."),
    ("sending", "Already queued to send; it was not sent twice."),
    ("delivered", "Already sent; it was not sent twice."),
    ("unknown", "Already handed to the carrier (not confirmed yet); it was not sent twice."),
])
def test_the_second_answer_shows_the_first_messages_state(visit, status, notice):
    first = send_sitter_message(visit.user.id, visit.thread.id, "Fed and watered", send_key=KEY)
    db.session.get(Message, first.message_id).status = status
    db.session.commit()
    again = send_sitter_message(visit.user.id, visit.thread.id, "Fed and watered", send_key=KEY)
    assert (again.message_id, again.status, again.notice) == (first.message_id, status, notice)
    assert len(_rows(Message)) == 1 and len(_rows(OutboxEntry)) == 1


def test_a_retry_to_an_opted_out_client_says_not_delivered_again(visit):
    visit.booking.client.opted_out = True
    db.session.commit()
    first = send_sitter_message(visit.user.id, visit.thread.id, "Hello", send_key=KEY)
    again = send_sitter_message(visit.user.id, visit.thread.id, "Hello", send_key=KEY)
    assert again.message_id == first.message_id and again.status == "blocked"
    assert again.notice == first.notice and "opted out" in again.notice
    assert len(_rows(Message)) == 1


def test_a_retry_after_the_window_closed_still_answers_sent(visit, clock):
    first = send_sitter_message(visit.user.id, visit.thread.id, "All done, door locked", send_key=KEY)
    clock.set(visit.window.ends_at + timedelta(minutes=5))  # the answer was lost; Retry much later
    again = send_sitter_message(visit.user.id, visit.thread.id, "All done, door locked", send_key=KEY)
    assert again.message_id == first.message_id and again.notice == "Already sent; it was not sent twice."
    assert len(_rows(OutboxEntry)) == 1


def test_different_keys_are_two_messages_even_with_the_same_words(visit, clock):
    send_sitter_message(visit.user.id, visit.thread.id, "On my way", send_key=KEY)
    clock.advance(seconds=20)
    second = send_sitter_message(visit.user.id, visit.thread.id, "On my way", send_key=OTHER_KEY)
    assert not second.repeated
    assert [m.send_key for m in _rows(Message)] == [KEY, OTHER_KEY]
    assert len(_rows(OutboxEntry)) == 2


def test_without_a_key_an_old_page_still_sends_as_before(visit, clock):
    first = send_sitter_message(visit.user.id, visit.thread.id, "On my way")
    assert not first.repeated and _rows(Message)[0].send_key is None
    clock.advance(seconds=20)  # the same tap twice, from a page without keys: still sent once
    again = send_sitter_message(visit.user.id, visit.thread.id, "On my way", send_key="")
    assert again.repeated and again.message_id == first.message_id
    clock.advance(minutes=3)
    send_sitter_message(visit.user.id, visit.thread.id, "On my way", send_key=None)
    assert len(_rows(OutboxEntry)) == 2


def test_a_key_used_on_another_thread_does_not_match(make, visit):
    other = make_visit(make, sitter=visit.sitter, start=START, hours=1)
    first = send_sitter_message(visit.user.id, visit.thread.id, "On my way", send_key=KEY)
    second = send_sitter_message(visit.user.id, other.thread.id, "On my way", send_key=KEY)
    assert second.message_id != first.message_id and not second.repeated
    assert sorted(m.thread_id for m in _rows(Message)) == sorted([visit.thread.id, other.thread.id])
    assert len(_rows(OutboxEntry)) == 2


def test_a_key_used_by_another_sitter_does_not_match_and_tells_nothing(make, visit):
    first = send_sitter_message(visit.user.id, visit.thread.id, "Hi from Sam", send_key=KEY)
    relief = make.sitter()
    visit.window.sitter_id = relief.id  # the visit passed to another sitter, same thread
    visit.booking.sitter_id = relief.id
    db.session.commit()
    second = send_sitter_message(relief.user.id, visit.thread.id, "Hi from the relief sitter", send_key=KEY)
    assert second.message_id != first.message_id and not second.repeated
    assert "not sent twice" not in second.notice
    mine, theirs = _rows(Message)
    assert (mine.send_key, theirs.send_key, theirs.sender_user_id) == (KEY, None, relief.user.id)
    assert len(_rows(OutboxEntry)) == 2


def test_other_words_under_a_used_key_are_not_sent_and_not_lost(visit):
    send_sitter_message(visit.user.id, visit.thread.id, "On my way", send_key=KEY)
    with pytest.raises(SendKeyUsed, match="already sent, so this one was not"):
        send_sitter_message(visit.user.id, visit.thread.id, "On my way, 5 min late", send_key=KEY)
    assert len(_rows(Message)) == 1 and len(_rows(OutboxEntry)) == 1


def test_a_text_that_was_not_delivered_is_not_resent_under_its_key(visit):
    first = send_sitter_message(visit.user.id, visit.thread.id, "On my way", send_key=KEY)
    db.session.get(Message, first.message_id).status = "failed"
    db.session.commit()
    with pytest.raises(SendKeyUsed, match="Not delivered"):
        send_sitter_message(visit.user.id, visit.thread.id, "On my way", send_key=KEY)
    assert len(_rows(Message)) == 1 and len(_rows(OutboxEntry)) == 1


def test_a_malformed_key_is_a_clear_refusal(visit):
    for bad in ("short", "x" * 65, "spaces are not allowed in a key!"):
        with pytest.raises(InvalidInput, match="out of date"):
            send_sitter_message(visit.user.id, visit.thread.id, "Hi", send_key=bad)
    assert _rows(Message) == []


def test_the_photos_of_a_retried_send_are_not_stored_twice(visit, media_root):
    photos = [Upload("a.jpg", photo_bytes(color=(1, 2, 3))), Upload("b.jpg", photo_bytes(color=(9, 9, 9)))]
    first = send_sitter_message(visit.user.id, visit.thread.id, "Biscuit at the park", photos=photos, send_key=KEY)
    stored = _files(media_root)
    assert stored
    again = send_sitter_message(visit.user.id, visit.thread.id, "Biscuit at the park", photos=photos, send_key=KEY)
    assert again.message_id == first.message_id and again.repeated
    assert len(_rows(MessageMedia)) == 2 and _files(media_root) == stored
    assert len(_rows(OutboxEntry)) == 1


def test_two_posts_that_both_miss_the_key_end_with_one_message(visit, media_root, monkeypatch):
    """The other post committed between this one's look-up and its insert (SQLite has no row
    lock): the unique index refuses the second row, its photos are removed, and it answers
    with the first one's state instead of a 500."""
    first = send_sitter_message(visit.user.id, visit.thread.id, "Biscuit at the park",
                                photos=[Upload("a.jpg", photo_bytes())], send_key=KEY)
    stored = _files(media_root)
    look_ups = []
    real = sitter_messages._keyed_message

    def late_look_up(thread_id, key):
        look_ups.append(key)
        return None if len(look_ups) == 1 else real(thread_id, key)

    monkeypatch.setattr(sitter_messages, "_keyed_message", late_look_up)
    again = send_sitter_message(visit.user.id, visit.thread.id, "Biscuit at the park",
                                photos=[Upload("a.jpg", photo_bytes())], send_key=KEY)
    assert look_ups == [KEY, KEY]
    assert (again.message_id, again.repeated, again.notice) == (
        first.message_id, True, "Already sent; it was not sent twice.")
    assert len(_rows(Message)) == 1 and len(_rows(MessageMedia)) == 1 and len(_rows(OutboxEntry)) == 1
    assert _files(media_root) == stored


@pytest.mark.postgres_only
def test_two_requests_with_one_key_at_once_send_one_message(app, visit):
    user_id, thread_id = visit.user.id, visit.thread.id
    outcomes = race(app, 2, lambda i: send_sitter_message(user_id, thread_id, "On my way", send_key=KEY))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert {o.message_id for o in outcomes} == {_rows(Message)[0].id}
    assert sorted(o.repeated for o in outcomes) == [False, True]
    assert len(_rows(Message)) == 1 and len(_rows(OutboxEntry)) == 1
