"""One URL, two answers: htmx gets the fragment, a plain visit and a history restore the whole page."""

from __future__ import annotations

HX = {"HX-Request": "true"}
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


def test_htmx_gets_the_fragment_and_a_history_restore_the_whole_page(client, login_as, make):
    login_as(make.user("owner"))
    make.booking()
    fragment = client.get("/admin/bookings?status=pending", headers=HX)
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    # Back after htmx's own history cache missed: the page must come whole, or Back shows a bare table.
    restored = client.get("/admin/bookings?status=pending", headers=RESTORE)
    assert restored.status_code == 200 and "<html" in restored.get_data(as_text=True)
    for response in (fragment, restored, client.get("/admin/bookings?status=pending")):
        assert {"HX-Request", "HX-History-Restore-Request"} <= set(response.vary)


def test_a_url_that_answers_one_way_does_not_vary_on_htmx(client, login_as, make):
    login_as(make.user("owner"))
    booking = make.booking()
    page = client.get(f"/admin/bookings/{booking.id}", headers=HX)
    assert page.status_code == 200 and "HX-Request" not in page.vary


def test_an_expired_session_sends_a_poll_to_the_login_page_but_a_restore_to_the_usual_redirect(client):
    poll = client.get("/sitter/visits", headers=HX)
    assert poll.status_code == 200 and poll.headers["HX-Redirect"] == "/login?next=/sitter/visits"
    restored = client.get("/sitter/visits", headers=RESTORE)
    assert restored.status_code == 302 and "HX-Redirect" not in restored.headers
