"""The compose box's one-time send key through the route: rendered by the server, a Retry of
the same draft is answered with the message it already made (issue 29)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Message, OutboxEntry
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York
HX = {"HX-Request": "true"}


@pytest.fixture
def visit(make, clock):
    clock.set(START + timedelta(minutes=15))
    return make_visit(make, start=START, hours=1)


def _send_key(html: str) -> str:
    [field] = re.findall(r'<input[^>]*name="send_key"[^>]*>', html)
    assert 'type="hidden"' in field and "data-send-key" in field
    return re.search(r'value="([^"]+)"', field).group(1)


def _kept_text(html: str) -> str:
    return re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1).strip()


def _count(model) -> int:
    db.session.rollback()
    return len(db.session.scalars(select(model)).all())


def _post(client, visit, body, key=None, headers=None):
    data = {"body": body} if key is None else {"body": body, "send_key": key}
    return client.post(f"/sitter/threads/{visit.thread.id}/messages", data=data, headers=headers or {})


def test_every_compose_box_gets_a_fresh_key_from_the_server(client, login_as, visit):
    login_as(visit.user)
    first = _send_key(client.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True))
    second = _send_key(client.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True))
    assert first != second and len(first) >= 16


def test_a_waiting_box_has_no_key_so_its_poll_does_not_swap_it_every_time(client, login_as, visit, clock):
    clock.set(START - timedelta(hours=2))
    login_as(visit.user)
    html = client.get(f"/sitter/threads/{visit.thread.id}/compose", headers=HX).get_data(as_text=True)
    assert "data-poll-url" in html and 'name="send_key"' not in html


def test_a_retried_htmx_send_is_answered_with_the_first_and_sent_once(client, login_as, visit):
    login_as(visit.user)
    key = _send_key(client.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True))
    first = _post(client, visit, "Biscuit is fed", key, HX).get_data(as_text=True)
    assert "Queued to send." in first  # this answer is the one the weak connection lost
    retry = _post(client, visit, "Biscuit is fed", key, HX)
    html = retry.get_data(as_text=True)
    compose, oob = html.split('<section id="messages" hx-swap-oob="innerHTML">')
    assert retry.status_code == 200 and "Already sent; it was not sent twice." in compose
    assert _kept_text(compose) == "" and _send_key(compose) not in (key, _send_key(first))  # a new draft, a new key
    assert oob.count("Biscuit is fed") == 1
    assert _count(Message) == 1 and _count(OutboxEntry) == 1


def test_a_retried_plain_form_send_redirects_with_the_first_ones_state(client, login_as, visit):
    login_as(visit.user)
    key = _send_key(client.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True))
    assert _post(client, visit, "Biscuit is fed", key).status_code == 302
    retry = _post(client, visit, "Biscuit is fed", key)
    assert retry.status_code == 302
    html = client.get(retry.location).get_data(as_text=True)
    assert "Already sent; it was not sent twice." in html
    assert _count(Message) == 1 and _count(OutboxEntry) == 1


def test_different_keys_send_twice_and_no_key_still_sends(client, login_as, visit):
    login_as(visit.user)
    _post(client, visit, "On my way", "first-draft-key-0123456789", HX)
    _post(client, visit, "On my way", "second-draft-key-0123456789", HX)
    assert _post(client, visit, "Fed and watered", None, HX).status_code == 200  # a page from before keys
    assert _count(Message) == 3 and _count(OutboxEntry) == 3
    assert db.session.scalars(select(Message.send_key).order_by(Message.id)).all() == [
        "first-draft-key-0123456789", "second-draft-key-0123456789", None]  # no key made up for an old page
    again = _post(client, visit, "Fed and watered", None, HX)  # its same tap twice: still sent once
    assert "not sent twice" in again.get_data(as_text=True) and _count(OutboxEntry) == 3


def test_other_words_under_a_used_key_stay_in_the_box_with_a_fresh_key(client, login_as, visit):
    login_as(visit.user)
    key = "one-draft-key-0123456789abcdef"
    _post(client, visit, "On my way", key, HX)
    response = _post(client, visit, "On my way, 5 min late", key, HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "already sent, so this one was not" in html
    assert _kept_text(html) == "On my way, 5 min late" and _send_key(html) != key
    assert _count(Message) == 1
    again = _post(client, visit, "On my way, 5 min late", _send_key(html), HX)  # Send: sent, once
    assert "Queued to send." in again.get_data(as_text=True) and _count(OutboxEntry) == 2


def test_a_malformed_key_is_a_clear_4xx_with_the_text_kept_and_a_fresh_key(client, login_as, visit):
    login_as(visit.user)
    response = _post(client, visit, "Hello", "not a key")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "this page is out of date" in html
    assert _kept_text(html) == "Hello" and _count(Message) == 0
    assert _post(client, visit, "Hello", _send_key(html)).status_code == 302 and _count(Message) == 1
