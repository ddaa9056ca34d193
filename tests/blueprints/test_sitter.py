"""The sitter's pages: what they show, when compose is open, and what the server refuses."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Alert, EventLog, Message, OutboxEntry
from tests.support.messaging_builders import as_first_text
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York
HX = {"HX-Request": "true"}


@pytest.fixture
def visit(make, clock):
    clock.set(START + timedelta(minutes=15))
    client = make.client(name="Alex Morgan", pets=("Biscuit", "Mochi"), area="Dupont Circle")
    return make_visit(make, start=START, hours=1, client=client)


def _compose_button(html: str) -> str:
    return re.search(r'<button type="submit"[^>]*>Send</button>', html).group(0)


def _textarea(html: str) -> str:
    return re.search(r"<textarea[^>]*>.*?</textarea>", html, re.S).group(0)


def _kept_text(html: str) -> str:
    return re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1).strip()


def test_dashboard_shows_the_active_window_and_today(client, login_as, make, visit, clock):
    later = make_visit(
        make,
        sitter=visit.sitter,
        start=START + timedelta(hours=5),
        client=make.client(name="Jamie Chen", pets=("Tofu",)),
    )
    earlier = make_visit(
        make,
        sitter=visit.sitter,
        start=START - timedelta(hours=4),
        client=make.client(name="Priya Patel", pets=("Rex",)),
    )
    make.message(thread=visit.thread, body="Is Biscuit ok?")
    make.message(thread=visit.thread, body="And Mochi?")
    make_visit(make, start=START)  # another sitter's visit: not shown
    login_as(visit.user)
    html = client.get("/sitter").get_data(as_text=True)
    active = html.split('id="active-now"')[1].split("</section>")[0]
    assert "Alex · Biscuit and Mochi" in active and "Dupont Circle" in active
    assert "visit ends 10:00 AM · texting until 11:00 AM" in active and "2 unread" in active
    assert f'href="/sitter/threads/{visit.thread.id}"' in active
    assert "Jamie" not in active
    today = html.split('id="today-heading"')[1].split("</section>")[0]
    assert today.index("Priya") < today.index("Alex") < today.index("Jamie")
    assert re.search(r'class="visit-card dimmed"[^>]*>\s*<a[^>]*threads/' + str(earlier.thread.id) + '"', today)
    assert f"threads/{later.thread.id}" in today


def test_opening_the_thread_marks_it_read(client, login_as, make, visit):
    make.message(thread=visit.thread, body="Is Biscuit ok?")
    login_as(visit.user)
    assert "1 unread" in client.get("/sitter").get_data(as_text=True)
    client.get(f"/sitter/threads/{visit.thread.id}")
    assert "unread" not in client.get("/sitter", headers={}).get_data(as_text=True)


EDGES = [  # (clock, compose open?, what the sitter reads)
    (START - timedelta(seconds=1), False, "Messaging opens at 9:00 AM (visit start)"),
    (START, True, "Messaging open until 11:00 AM (2 h 0 min left)"),
    (START + timedelta(hours=2) - timedelta(seconds=1), True, "Messaging open until 11:00 AM"),  # end + grace − 1 s
    (START + timedelta(hours=2), False, "Messaging closed at 11:00 AM, one hour after the visit"),  # end + grace
]


def test_compose_is_enabled_only_inside_the_window(client, login_as, visit, clock):
    login_as(visit.user)
    for at, is_open, text in EDGES:
        clock.set(at)
        html = client.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True)
        assert text in html, at
        assert ("disabled" not in _compose_button(html)) is is_open, at
        assert ("disabled" not in _textarea(html)) is is_open, at


def test_post_outside_the_window_is_refused_with_the_text_kept(client, login_as, visit, clock):
    clock.set(START + timedelta(hours=2))  # end + grace: a stale page still shows compose
    login_as(visit.user)
    response = client.post(f"/sitter/threads/{visit.thread.id}/messages", data={"body": "Running late!"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Not sent. Messaging closed at 11:00 AM" in html
    assert _kept_text(html) == "Running late!" and "readonly" in _textarea(html)
    assert db.session.scalars(select(Message)).all() == []
    assert db.session.scalar(select(EventLog.kind)) == "message.blocked_outside_window"
    alerts = client.get("/sitter/alerts").get_data(as_text=True)
    assert "Not sent: outside the visit window" in alerts and "Messaging closed at 11:00 AM" in alerts


def test_htmx_post_outside_the_window_answers_the_compose_fragment(client, login_as, visit, clock):
    clock.set(START - timedelta(minutes=5))
    login_as(visit.user)
    response = client.post(f"/sitter/threads/{visit.thread.id}/messages", data={"body": "Here early"}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="compose"') and _kept_text(html) == "Here early"
    assert "Messaging opens at 9:00 AM" in html


def test_another_sitters_thread_is_404_for_every_sitter_url(client, login_as, make, visit):
    stranger = make.sitter()
    login_as(stranger.user)
    tid = visit.thread.id
    for url in (
        f"/sitter/threads/{tid}",
        f"/sitter/threads/{tid}/messages",
        f"/sitter/threads/{tid}/compose",
    ):
        assert client.get(url).status_code == 404, url
        assert client.get(url, headers=HX).status_code == 404, url
    response = client.post(f"/sitter/threads/{tid}/messages", data={"body": "hi"})
    assert response.status_code == 404 and b"Alex" not in response.data
    assert db.session.scalars(select(Message)).all() == []
    assert db.session.scalars(select(EventLog)).all() == []
    alert = make.alert(audience="sitter", sitter_id=visit.sitter.id, text="yours")
    assert client.post(f"/sitter/alerts/{alert.id}/dismiss").status_code == 404


def test_owners_do_not_get_sitter_pages(client, login_as, make, visit):
    login_as(make.user("owner"))
    assert client.get("/sitter").status_code == 404
    assert client.get(f"/sitter/threads/{visit.thread.id}").status_code == 404


def test_htmx_partials_answer_fragments_and_vary(client, login_as, visit):
    login_as(visit.user)
    tid = visit.thread.id
    for url in (
        "/sitter/active",
        "/sitter/alerts",
        f"/sitter/threads/{tid}/messages",
        f"/sitter/threads/{tid}/compose",
    ):
        fragment = client.get(url, headers=HX)
        assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"], url
        assert "<html" not in fragment.get_data(as_text=True), url
        page = client.get(url)
        assert page.status_code == 200 and "HX-Request" in page.headers["Vary"], url
        assert "<html" in page.get_data(as_text=True), url


def test_the_full_page_polls_the_same_partials(client, login_as, visit):
    login_as(visit.user)
    html = client.get("/sitter").get_data(as_text=True)
    # js/sitter.js polls these (htmx trigger filters need eval, which a strict CSP forbids).
    assert 'data-poll-url="/sitter/visits" data-poll-seconds="30"' in html
    assert 'data-poll-url="/sitter/alerts" data-poll-seconds="30"' in html
    fragment = client.get("/sitter/visits", headers=HX).get_data(as_text=True)
    assert fragment.strip() in html
    active = client.get("/sitter/active", headers=HX).get_data(as_text=True)
    assert active.strip() in html


def test_send_without_javascript_redirects_back_with_the_message(client, login_as, visit):
    login_as(visit.user)
    response = client.post(f"/sitter/threads/{visit.thread.id}/messages", data={"body": "Biscuit fed"})
    assert response.status_code == 302 and response.location.endswith(f"/sitter/threads/{visit.thread.id}#compose")
    html = client.get(response.location).get_data(as_text=True)
    assert "Queued to send." in html and "Biscuit fed" in html and ">You<" in html


def test_htmx_send_returns_a_fresh_compose_and_the_new_message_out_of_band(client, login_as, visit):
    login_as(visit.user)
    response = client.post(f"/sitter/threads/{visit.thread.id}/messages", data={"body": "All done!"}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    compose, oob = html.split('<section id="messages" hx-swap-oob="innerHTML">')
    assert "Queued to send." in compose and "All done!" not in compose
    assert "All done!" in oob and ">You<" in oob
    assert db.session.scalar(select(OutboxEntry.body)) == as_first_text("All done!")


def test_policy_block_shows_the_reason_and_keeps_the_text(client, login_as, visit):
    login_as(visit.user)
    body = "Just venmo me @jo-sits"
    response = client.post(f"/sitter/threads/{visit.thread.id}/messages", data={"body": body})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Not sent: your message includes an off-platform payment handle (Venmo)" in html
    assert _kept_text(html) == body and "disabled" not in _compose_button(html)
    assert db.session.scalars(select(Message)).all() == []
    assert db.session.scalar(select(Alert.kind)) == "policy.violation"


def test_policy_flag_sends_and_tells_the_sitter(client, login_as, visit):
    visit.user.org.policy_mode = "flag"
    db.session.commit()
    login_as(visit.user)
    response = client.post(
        f"/sitter/threads/{visit.thread.id}/messages",
        data={"body": "email me jo@example.com"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Queued to send, but flagged for the office: it included an e-mail address." in html
    assert db.session.scalar(select(OutboxEntry.body)) == as_first_text("email me jo@example.com")
    assert "Content policy" in client.get("/sitter/alerts").get_data(as_text=True)


def test_dismissing_an_alert(client, login_as, make, visit):
    alert = make.alert(
        audience="sitter",
        sitter_id=visit.sitter.id,
        kind="policy.violation",
        text="Your message was not sent",
    )
    login_as(visit.user)
    assert "Your message was not sent" in client.get("/sitter/alerts").get_data(as_text=True)
    response = client.post(f"/sitter/alerts/{alert.id}/dismiss", headers=HX)
    assert response.status_code == 200 and "No alerts." in response.get_data(as_text=True)
    db.session.refresh(alert)
    assert alert.resolved_at is not None


def test_undelivered_texts_show_as_alerts_and_opt_out_is_explained(client, login_as, make, visit):
    visit.booking.client.opted_out = True
    make.message(
        thread=visit.thread,
        direction="outbound",
        sender_kind="sitter",
        sender_user_id=visit.user.id,
        body="See you at 9",
        status="failed",
        error_code="30005",
    )
    db.session.commit()
    login_as(visit.user)
    alerts = client.get("/sitter/alerts", headers=HX).get_data(as_text=True)
    assert "Not delivered to Alex" in alerts and "See you at 9" in alerts
    page = client.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True)
    assert "Alex has opted out of texts" in page
    response = client.post(
        f"/sitter/threads/{visit.thread.id}/messages",
        data={"body": "Hello?"},
        follow_redirects=True,
    )
    assert "Not delivered: Alex has opted out of texts (replied STOP)." in response.get_data(as_text=True)
    alerts = client.get("/sitter/alerts").get_data(as_text=True)
    assert "“Hello?” The client has opted out of texts (replied STOP); this message was not sent." in alerts


def test_an_expired_session_sends_htmx_polls_to_the_login_page(client):
    response = client.get("/sitter/active", headers=HX)
    assert response.status_code == 200 and response.data == b""
    assert response.headers["HX-Redirect"] == "/login?next=/sitter/active"
    assert client.get("/sitter/active").status_code == 302  # a plain visit: the usual redirect


def test_today_is_the_org_local_day_not_the_utc_day(client, login_as, make, clock):
    clock.set(datetime(2026, 11, 25, 23, 30, tzinfo=UTC))  # 6:30 PM in New York, already the 26th in UTC
    sitter = make.sitter()
    evening = make_visit(
        make,
        sitter=sitter,
        start=datetime(2026, 11, 26, 1, 0, tzinfo=UTC),  # 8 PM local
        client=make.client(name="Evening Client"),
    )
    tomorrow = make_visit(
        make,
        sitter=sitter,
        start=datetime(2026, 11, 26, 14, 0, tzinfo=UTC),  # 9 AM tomorrow
        client=make.client(name="Tomorrow Client"),
    )
    login_as(sitter.user)
    today = client.get("/sitter").get_data(as_text=True).split('id="today-heading"')[1]
    assert f"threads/{evening.thread.id}" in today and "8:00 PM–9:00 PM" in today
    assert f"threads/{tomorrow.thread.id}" not in today


def test_closed_compose_polls_until_the_window_opens(client, login_as, visit, clock):
    clock.set(START - timedelta(minutes=1))
    login_as(visit.user)
    url = f"/sitter/threads/{visit.thread.id}/compose"
    waiting = client.get(url, headers=HX).get_data(as_text=True)
    assert f'data-poll-url="{url}"' in waiting and "Messaging opens at 9:00 AM" in waiting
    assert 'data-opens-in="60"' in waiting  # the page fetches the open box the moment it opens
    clock.set(START)
    opened = client.get(url, headers=HX).get_data(as_text=True)
    assert "data-poll-url" not in opened and "disabled" not in _compose_button(opened)
    clock.set(START + timedelta(hours=3))
    assert "data-poll-url" not in client.get(url, headers=HX).get_data(as_text=True)  # closed for good
