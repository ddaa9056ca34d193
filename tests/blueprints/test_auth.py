"""Logging in lands each role on its home; bad logins say so without a hint."""

from __future__ import annotations

import pytest

from app.errors import InvalidInput
from app.services.accounts.users import create_user
from tests.support.factories import PASSWORD


@pytest.mark.parametrize(("role", "home"), [("owner", "/admin"), ("staff", "/admin"), ("sitter", "/sitter")])
def test_login_sends_each_role_home(client, make, role, home):
    user = make.sitter().user if role == "sitter" else make.user(role)
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(home)
    assert client.get(home).status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_clear_message(client, make):
    user = make.user("owner")
    wrong_password = client.post("/login", data={"email": user.email, "password": "nope-nope"})
    unknown_email = client.post("/login", data={"email": "who@example.test", "password": PASSWORD})
    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert b"That email and password do not match an account." in response.data
    assert client.get("/admin").status_code == 302  # still not logged in


def test_inactive_user_cannot_log_in(client, make):
    user = make.user("owner", active=False)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_pages_need_login_and_the_right_role(client, make, login_as):
    assert client.get("/admin").headers["Location"].startswith("/login")
    assert client.get("/sitter").headers["Location"].startswith("/login")
    login_as(make.sitter().user)
    assert client.get("/admin").status_code == 404
    login_as(make.user("staff"))
    assert client.get("/sitter").status_code == 404


def test_next_parameter_only_goes_to_this_site(client, make):
    user = make.user("owner")
    response = client.post("/login?next=https://evil.example/x", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/admin")


def test_logout_needs_a_post_and_ends_the_session(client, make, login_as):
    login_as(make.user("owner"))
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/admin").status_code == 302


def test_passwords_are_hashed(make):
    user = make.user("owner")
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD)


def test_creating_a_user_with_an_unknown_role_is_refused(db, make):
    with pytest.raises(InvalidInput, match="role must be one of owner, staff, sitter"):
        create_user(make.default_org.id, "new@example.test", "long-enough-pw", "admin", "New")


def test_login_form_needs_csrf_when_enabled(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/login", data={"email": "a@b.c", "password": "x"})
    assert response.status_code == 400
    assert b"This page expired before you sent it" in response.data
