"""Server-side sessions: logout ends a login wherever its cookie was copied; remember-me is per login."""

from __future__ import annotations

from sqlalchemy import select

from app.models import LoginSession
from app.services.accounts import sessions as session_service
from tests.support.factories import PASSWORD

HOST = "pawline.test"
NEW_PASSWORD = "walkies-at-dawn-77"


def _log_in(client, user, remember=False):
    data = {"email": user.email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.status_code
    return response


def _copy_cookie(source, target, name):
    cookie = source.get_cookie(name, domain=HOST)
    assert cookie is not None, f"no {name} cookie"
    target.set_cookie(name, cookie.value, domain=HOST)
    return cookie.value


def test_a_session_cookie_replayed_after_logout_is_sent_to_login(app, make):
    owner = make.user("owner")
    browser, thief = app.test_client(), app.test_client()
    _log_in(browser, owner)
    _copy_cookie(browser, thief, "session")
    assert thief.get("/admin").status_code == 200  # a copy works while the login lives
    browser.post("/logout")
    response = thief.get("/admin")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_session_cookie_no_longer_carries_the_user_id(app, make):
    owner = make.user("owner")
    browser = app.test_client()
    _log_in(browser, owner)
    with browser.session_transaction() as session:
        assert session["_user_id"] != str(owner.id) and len(session["_user_id"]) >= 40
    row = app.extensions["sqlalchemy"].session.scalar(select(LoginSession).where(LoginSession.user_id == owner.id))
    assert row.token_hash != session["_user_id"]  # stored hashed


def test_the_csrf_token_of_a_planted_pre_login_session_does_not_survive_login(app, make):
    owner = make.user("owner")
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["csrf_token"] = "planted-by-an-attacker"
    _log_in(browser, owner)
    with browser.session_transaction() as session:
        assert session.get("csrf_token") != "planted-by-an-attacker"
        assert set(session) <= {"_user_id", "_fresh", "_id", "csrf_token", "_flashes"}


def test_remember_me_is_a_per_login_token_rotated_on_use(app, make):
    owner = make.user("owner")
    browser = app.test_client()
    response = _log_in(browser, owner, remember=True)
    assert "remember_token=" not in " ".join(response.headers.getlist("Set-Cookie"))  # not Flask-Login's
    first = browser.get_cookie("pawline_remember", domain=HOST).value
    cookie_header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("pawline_remember="))
    assert "HttpOnly" in cookie_header and "SameSite=Lax" in cookie_header

    later = app.test_client()  # the browser was closed: only the remember cookie is left
    later.set_cookie("pawline_remember", first, domain=HOST)
    assert later.get("/admin").status_code == 200
    second = later.get_cookie("pawline_remember", domain=HOST).value
    assert second != first
    assert later.get("/admin").status_code == 200  # now on a session cookie of its own

    replay = app.test_client()  # the rotated-out value is dead
    replay.set_cookie("pawline_remember", first, domain=HOST)
    assert replay.get("/admin").status_code == 302

    again = _log_in(app.test_client(), owner, remember=True)
    assert again is not None  # a second login gets its own, different secret
    row_ids = {int(v.split(":")[0]) for v in (first, second)}
    assert len(row_ids) == 1


def test_remember_me_lasts_at_most_30_days(app, make, clock):
    owner = make.user("owner")
    browser = app.test_client()
    _log_in(browser, owner, remember=True)
    value = browser.get_cookie("pawline_remember", domain=HOST).value
    clock.advance(days=29, hours=23)
    fresh = app.test_client()
    fresh.set_cookie("pawline_remember", value, domain=HOST)
    assert fresh.get("/admin").status_code == 200
    clock.advance(hours=2)
    expired = app.test_client()
    expired.set_cookie("pawline_remember", fresh.get_cookie("pawline_remember", domain=HOST).value, domain=HOST)
    assert expired.get("/admin").status_code == 302


def test_a_plain_login_ends_after_idle_hours(app, make, clock):
    owner = make.user("owner")
    browser = app.test_client()
    _log_in(browser, owner)
    clock.advance(hours=session_service.IDLE_HOURS - 1)
    assert browser.get("/admin").status_code == 200
    clock.advance(hours=session_service.IDLE_HOURS - 1)  # seen an hour in: still within idle time
    assert browser.get("/admin").status_code == 200
    clock.advance(hours=session_service.IDLE_HOURS + 1)
    assert browser.get("/admin").status_code == 302


def test_a_remember_token_from_before_a_password_change_is_refused(app, make):
    owner = make.user("owner")
    phone, laptop = app.test_client(), app.test_client()
    _log_in(phone, owner, remember=True)
    remembered = phone.get_cookie("pawline_remember", domain=HOST).value
    _log_in(laptop, owner)
    response = laptop.post("/account", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                             "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert laptop.get("/admin").status_code == 200  # the session that changed it stays
    assert phone.get("/admin").status_code == 302  # the other one ended
    restored = app.test_client()
    restored.set_cookie("pawline_remember", remembered, domain=HOST)
    assert restored.get("/admin").status_code == 302


def test_log_out_everywhere_ends_every_session_and_tells_the_hooks(app, make, db):
    owner = make.user("owner")
    first, second = app.test_client(), app.test_client()
    _log_in(first, owner)
    _log_in(second, owner, remember=True)
    heard = []

    def hook(sender, user_id, reason):
        heard.append((user_id, reason))

    session_service.all_sessions_ended.connect(hook)
    try:
        response = first.post("/account/sessions/end")
    finally:
        session_service.all_sessions_ended.disconnect(hook)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert first.get("/admin").status_code == 302
    assert second.get("/admin").status_code == 302
    assert heard == [(owner.id, "logout_everywhere")]


def test_an_owner_logs_a_user_of_the_org_out_everywhere_but_not_another_orgs(app, make, login_as, client):
    owner = make.user("owner")
    sitter_user = make.sitter().user
    stranger = make.user("staff", org=make.org(name="Elsewhere"))
    phone = app.test_client()
    _log_in(phone, sitter_user)
    assert phone.get("/sitter").status_code == 200
    login_as(owner)
    assert client.post(f"/admin/users/{stranger.id}/sessions/end").status_code == 404
    response = client.post(f"/admin/users/{sitter_user.id}/sessions/end", follow_redirects=True)
    assert "logged out everywhere (1 session ended)" in response.get_data(as_text=True)
    assert phone.get("/sitter").status_code == 302
    assert client.get("/admin").status_code == 200  # the owner's own session is untouched
    staff = make.user("staff")
    login_as(staff)
    assert client.post(f"/admin/users/{sitter_user.id}/sessions/end").status_code == 404


def test_deactivating_a_user_ends_their_sessions(app, make, login_as, client, db):
    owner, staff = make.user("owner"), make.user("staff")
    other = app.test_client()
    _log_in(other, staff)
    login_as(owner)
    client.post(f"/admin/users/{staff.id}/active", data={"active": "0", "confirmed": "1"})  # after its confirm step
    assert other.get("/admin").status_code == 302
    rows = db.session.scalars(select(LoginSession).where(LoginSession.user_id == staff.id)).all()
    assert rows and all(r.ended_reason == "deactivated" for r in rows)


def test_checking_a_session_is_one_query(app, make, db):
    from sqlalchemy import event

    owner = make.user("owner")
    started = session_service.start_session(owner, remember=False)
    db.session.expunge_all()  # nothing cached: the check must load the user too
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        user = session_service.load_session(started.token)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert user.id == owner.id and user.org.name  # the org came with it
    assert len(statements) == 1


def test_a_plain_login_ends_a_week_after_it_began_however_busy(app, make, clock):
    owner = make.user("owner")
    started = session_service.start_session(owner, remember=False)
    for _ in range(session_service.SESSION_HOURS // 6 - 1):
        clock.advance(hours=6)
        assert session_service.load_session(started.token) is not None
    clock.advance(hours=7)
    assert session_service.load_session(started.token) is None
