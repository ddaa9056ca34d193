"""Quick replies on the settings page (owners edit the list) and under the sitter's message field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.models import Org
from tests.blueprints.admin.test_line_settings import settings_form
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def test_the_settings_page_shows_the_list_one_a_line_and_saves_an_edit(client, login_as, make):
    owner = make.user("owner")
    login_as(owner)
    org = db.session.get(Org, owner.org_id)
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "On my way\nAll done, door locked\nFed and watered</textarea>" in page
    response = client.post("/admin/settings", data=settings_form(org, quick_replies="On my way\nKeys are back"),
                           follow_redirects=True)
    assert "Settings saved." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Org, owner.org_id).quick_replies == ["On my way", "Keys are back"]


def test_a_bad_line_is_shown_at_the_field_and_nothing_is_saved(client, login_as, make):
    owner = make.user("owner")
    login_as(owner)
    org = db.session.get(Org, owner.org_id)
    response = client.post("/admin/settings", data=settings_form(
        org, quick_replies="On my way\n" + "z" * 170, number_cooloff_days="3"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-field="quick_replies">Line 2 is 170 characters' in html
    assert "z" * 170 in html  # what the owner typed is kept for editing
    db.session.expire_all()
    org = db.session.get(Org, owner.org_id)
    assert (org.quick_replies, org.number_cooloff_days) == (None, 7)


def test_a_post_without_the_field_leaves_the_list_alone(client, login_as, make):
    owner = make.user("owner")
    login_as(owner)
    org = db.session.get(Org, owner.org_id)
    org.quick_replies = ["Home safe"]
    db.session.commit()
    client.post("/admin/settings", data=settings_form(org), follow_redirects=True)
    db.session.expire_all()
    assert db.session.get(Org, owner.org_id).quick_replies == ["Home safe"]


def test_the_sitter_sees_them_as_buttons_that_send_nothing_while_the_window_is_open(client, login_as, make, clock):
    clock.set(START + timedelta(minutes=10))
    visit = make_visit(make, start=START, hours=1)
    visit.user.org.quick_replies = ["On my way", "Fed & watered"]
    db.session.commit()
    login_as(visit.user)
    page = client.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True)
    assert '<button type="button" class="quick-reply secondary" data-quick-reply="On my way">On my way</button>' in page
    assert 'data-quick-reply="Fed &amp; watered"' in page  # escaped like any text
    assert page.count("data-send-button") == 1

    clock.set(START + timedelta(hours=3))  # window over: nothing to insert into
    page = client.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True)
    assert "data-quick-reply" not in page
