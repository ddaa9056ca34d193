"""A retried send is sent once (issue 29) at 390×844: the server gets the send, its answer is
lost on the way back, the page says "Not sent…", and Retry (or Send after a reload, the draft
and its key kept on the phone) is answered with the message already made: the client got one text."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Message, MessageMedia, OutboxEntry
from tests.browser.conftest import on_thread, settled
from tests.support.media_stand_in import photo_bytes
from tests.support.sitter_data import make_visit

pytestmark = pytest.mark.browser

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York


def _lose_the_first_answer(page, received: list):
    """The first send reaches the server and is handled; its answer never reaches the page."""

    def handle(route):
        if route.request.method != "POST":
            route.continue_()
            return
        if received:
            received.append(route.request.post_data_buffer)
            route.continue_()
            return
        response = route.fetch()  # the server got it and answered...
        received.append(response.status)
        route.abort("connectionreset")  # ...and the answer was lost on the way back

    page.route("**/sitter/threads/*/messages", handle)


def _rows(model):
    db.session.rollback()  # end this test's read snapshot
    return db.session.scalars(select(model)).all()


@contextmanager
def _thread_open_on_a_phone(make, clock, live_server, chromium):
    """A sitter inside the window with the thread open at 390×844; yields the page."""
    clock.set(START + timedelta(minutes=10))
    visit = make_visit(make, start=START, hours=1, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    with on_thread(chromium, live_server, visit) as (_context, page):
        yield page


def test_retry_after_a_lost_answer_sends_the_text_and_photo_once(make, clock, live_server, chromium):
    received: list = []
    with _thread_open_on_a_phone(make, clock, live_server, chromium) as page:
        page.locator("#photos").set_input_files([{"name": "garden.jpg", "mimeType": "image/jpeg",
                                                 "buffer": photo_bytes((800, 600))}])
        page.locator("#attach-status").get_by_text("ready").wait_for()
        page.fill("#body", "Biscuit in the garden")
        _lose_the_first_answer(page, received)
        page.get_by_role("button", name="Send", exact=True).click()
        error = page.locator("[data-send-error]")
        error.get_by_text("Not sent, no connection.").wait_for()
        assert received == [200]  # the server did take it
        assert page.locator("#body").input_value() == "Biscuit in the garden"

        clock.advance(minutes=3)  # a slow upload's timeout: past the server's same-tap check
        error.get_by_role("button", name="Retry").click()
        page.locator("[data-notice]").get_by_text("Already sent; it was not sent twice.").wait_for()
        settled(page)  # the confirmed box clears the draft when htmx settles it (after the swap)
        assert len(received) == 2  # Retry did post again...
        mine = page.locator("#messages .message-mine").filter(has_text="Biscuit in the garden")
        assert mine.count() == 1 and page.locator("#body").input_value() == ""
        # ...and the client got exactly one text, with one photo.
        assert len(_rows(Message)) == 1 and len(_rows(OutboxEntry)) == 1 and len(_rows(MessageMedia)) == 1
        stored = page.evaluate("Object.keys(window.localStorage).filter(k => k.startsWith('pawline:draft:'))")
        assert stored == []  # the confirmed send took the draft and its key away


def test_send_after_a_reload_keeps_the_drafts_key_and_sends_once(make, clock, live_server, chromium):
    received: list = []
    with _thread_open_on_a_phone(make, clock, live_server, chromium) as page:
        sent_key = page.locator("[data-send-key]").input_value()
        page.fill("#body", "All done, door locked")
        _lose_the_first_answer(page, received)
        page.get_by_role("button", name="Send", exact=True).click()
        page.locator("[data-send-error]").get_by_text("Not sent, no connection.").wait_for()
        page.unroute("**/sitter/threads/*/messages")
        clock.advance(minutes=3)  # past the server's same-tap check: only the key can tell

        page.reload()  # the page comes back with a fresh key; the draft brings its own
        page.locator("#messages .message-mine").filter(has_text="All done, door locked").wait_for()
        assert page.locator("#body").input_value() == "All done, door locked"
        assert page.locator("[data-send-key]").input_value() == sent_key
        page.get_by_role("button", name="Send", exact=True).click()
        page.locator("[data-notice]").get_by_text("Already sent; it was not sent twice.").wait_for()
        settled(page)  # the box the send brought is htmx's form, wired, before it is used
        assert len(_rows(Message)) == 1 and len(_rows(OutboxEntry)) == 1

        page.fill("#body", "Back tomorrow at 9")  # a new draft after a confirmed send: a new key
        assert page.locator("[data-send-key]").input_value() != sent_key
        page.get_by_role("button", name="Send", exact=True).click()
        page.locator("#messages .message-mine").filter(has_text="Back tomorrow at 9").wait_for()
        assert len(_rows(OutboxEntry)) == 2
