"""Who may open each admin page: owners all, staff all but settings and users,
sitters never (404), anonymous users are sent to log in, other orgs get 404."""

from __future__ import annotations

import pytest

OWNER_ONLY = {"/admin/settings", "/admin/users"}


def page_urls(rows) -> list[str]:
    return [
        "/admin",
        "/admin/bookings",
        "/admin/bookings/new",
        f"/admin/bookings/{rows.booking.id}",
        "/admin/clients",
        "/admin/clients/new",
        f"/admin/clients/{rows.client.id}",
        f"/admin/clients/{rows.client.id}/edit",
        "/admin/sitters",
        "/admin/sitters/new",
        f"/admin/sitters/{rows.sitter.id}",
        "/admin/numbers",
        f"/admin/numbers/{rows.number.id}",
        "/admin/inbox",
        f"/admin/inbox/{rows.message.id}",
        "/admin/threads",
        f"/admin/threads/{rows.thread.id}",
        "/admin/automations",
        "/admin/audit",
        "/admin/settings",
        "/admin/users",
    ]


def test_owner_opens_every_page(client, login_as, org_rows):
    login_as(org_rows.owner)
    for url in page_urls(org_rows):
        assert client.get(url).status_code == 200, url


def test_staff_opens_every_page_but_settings_and_users(client, login_as, org_rows):
    login_as(org_rows.staff)
    for url in page_urls(org_rows):
        expected = 404 if url in OWNER_ONLY else 200
        assert client.get(url).status_code == expected, url


def test_staff_cannot_change_settings_or_users(client, login_as, org_rows, db):
    login_as(org_rows.staff)
    response = client.post("/admin/settings", data={"name": "Hijacked", "timezone": "UTC", "grace_minutes": 1,
                                                    "quiet_start_hour": 1, "quiet_end_hour": 2,
                                                    "policy_mode": "flag"})
    assert response.status_code == 404
    response = client.post("/admin/users", data={"name": "X", "email": "x@example.test",
                                                 "password": "long-enough-1", "role": "owner"})
    assert response.status_code == 404
    assert client.post(f"/admin/users/{org_rows.owner.id}/active", data={"active": "0"}).status_code == 404
    db.session.expire_all()
    assert org_rows.owner.org.name == "Happy Tails"
    assert org_rows.owner.active


def test_sitters_get_404_everywhere(client, login_as, org_rows):
    login_as(org_rows.sitter.user)
    for url in page_urls(org_rows):
        assert client.get(url).status_code == 404, url


def test_anonymous_is_sent_to_login(client, org_rows):
    for url in page_urls(org_rows):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"]


def test_owner_of_another_org_gets_404_for_this_orgs_rows(client, login_as, make, org_rows):
    other_owner = make.user("owner", org=make.org(name="Elsewhere"))
    login_as(other_owner)
    for url in page_urls(org_rows):
        if any(ch.isdigit() for ch in url):
            assert client.get(url).status_code == 404, url
    assert client.post(f"/admin/alerts/{org_rows.alert.id}/resolve").status_code == 404


@pytest.mark.parametrize("role", ["sitter", None])
def test_posts_are_refused_to_sitters_and_anonymous(client, login_as, org_rows, role):
    if role:
        login_as(org_rows.sitter.user)
    response = client.post("/admin/clients/new", data={"name": "Sneaky", "phone": "202-555-0199"})
    assert response.status_code == (404 if role else 302)
