"""The sitter's phone: one live visits partial, incremental thread fetches, compose countdown data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York
HX = {"HX-Request": "true"}


@pytest.fixture
def visit(make, clock):
    clock.set(START + timedelta(minutes=15))
    client = make.client(name="Alex Morgan", pets=("Biscuit",))
    return make_visit(make, start=START, hours=1, client=client)


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-message-id="(\d+)"', html)]


def test_after_answers_204_when_nothing_is_new(client, login_as, make, visit):
    first = make.message(thread=visit.thread, body="Hi")
    login_as(visit.user)
    response = client.get(f"/sitter/threads/{visit.thread.id}/messages?after={first.id}", headers=HX)
    assert response.status_code == 204 and response.data == b""
    assert response.headers["Cache-Control"] == "no-store"


def test_after_returns_only_the_new_messages(client, login_as, make, visit, clock):
    first = make.message(thread=visit.thread, body="Hi")
    login_as(visit.user)
    clock.advance(minutes=1)
    second = make.message(thread=visit.thread, body="Call me on (202) 555-0199")
    url = f"/sitter/threads/{visit.thread.id}/messages?after={first.id}"
    html = client.get(url, headers=HX).get_data(as_text=True)
    assert _ids(html) == [second.id] and "<ol" not in html
    assert "[number hidden]" in html and "555-0199" not in html
    assert 'data-direction="inbound"' in html and 'data-sender="Alex"' in html
    # Fetching it marked the thread read.
    assert "unread" not in client.get("/sitter").get_data(as_text=True)


def test_after_repeats_my_text_while_it_is_still_sending(client, login_as, make, visit):
    login_as(visit.user)
    mine = make.message(thread=visit.thread, direction="outbound", sender_kind="sitter",
                        sender_user_id=visit.user.id, body="On my way", status="queued")
    url = f"/sitter/threads/{visit.thread.id}/messages?after={mine.id}"
    html = client.get(url, headers=HX).get_data(as_text=True)
    assert _ids(html) == [mine.id] and "Queued" in html
    mine.status = "delivered"
    db.session.commit()
    assert client.get(url, headers=HX).status_code == 204


def test_after_is_404_for_another_sitters_thread_and_400_when_out_of_range(client, login_as, make, visit):
    other = make_visit(make, start=START)
    login_as(visit.user)
    assert client.get(f"/sitter/threads/{other.thread.id}/messages?after=0", headers=HX).status_code == 404
    assert client.get(f"/sitter/threads/{visit.thread.id}/messages?after=-1", headers=HX).status_code == 400
    huge = client.get(f"/sitter/threads/{visit.thread.id}/messages?after={2**70}", headers=HX)
    assert huge.status_code == 400


def test_the_thread_page_says_where_it_starts_polling(client, login_as, make, visit):
    last = make.message(thread=visit.thread, body="Hi")
    login_as(visit.user)
    html = client.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True)
    assert f'data-latest-id="{last.id}"' in html
    assert f'data-thread-poll="/sitter/threads/{visit.thread.id}/messages"' in html


def test_compose_carries_the_seconds_until_the_window_closes(client, login_as, visit):
    login_as(visit.user)
    html = client.get(f"/sitter/threads/{visit.thread.id}/compose", headers=HX).get_data(as_text=True)
    # 9:15 now; the visit ends 10:00, messaging one hour later at 11:00 AM.
    assert 'data-closes-in="6300"' in html and 'data-closes-at="11:00 AM"' in html
    assert "hx-request='{\"timeout\": 20000}'" in html  # a hung send fails visibly


def test_the_visits_partial_holds_active_now_and_today_from_one_read(client, login_as, make, visit):
    make.message(thread=visit.thread, body="Is Biscuit ok?")
    login_as(visit.user)
    html = client.get("/sitter/visits", headers=HX).get_data(as_text=True)
    assert 'id="active-heading"' in html and 'id="today-heading"' in html
    assert 'data-new-count="1"' in html
    assert "visit ends 10:00 AM · texting until 11:00 AM" in html
    page = client.get("/sitter/visits")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)  # a plain visit: the dashboard
    assert "HX-Request" in page.headers["Vary"]


def test_unread_count_is_in_the_tab_title_and_the_nav(client, login_as, make, visit):
    make.message(thread=visit.thread, body="Is Biscuit ok?")
    make.message(thread=visit.thread, body="Hello?")
    login_as(visit.user)
    html = client.get("/sitter").get_data(as_text=True)
    assert "<title>(2) Today · Pawline</title>" in html
    assert re.search(r"data-nav-count>2 unread</span>", html)


def test_a_poll_with_nothing_new_is_three_lean_statements_and_no_write(client, login_as, make, visit):
    from tests.blueprints.test_sitter_queries import count_statements

    for _ in range(5):
        last = make.message(thread=visit.thread, body="Hi")
    login_as(visit.user)
    base = f"/sitter/threads/{visit.thread.id}/messages"
    incremental = f"{base}?after={last.id}"
    client.get(base, headers=HX)  # warm
    with count_statements() as full:
        assert client.get(base, headers=HX).status_code == 200
    with count_statements() as after:
        assert client.get(incremental, headers=HX).status_code == 204
    queries = after
    assert len(queries) <= 3 < len(full), [s[:90] for s in queries]  # the login's user, is it theirs, anything new
    assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE")) for s in after)  # a 204 writes nothing
