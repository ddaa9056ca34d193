"""Passwords: change with the current one, owner-issued one-time links, sitter codes by text, strength."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.errors import InvalidInput
from app.models import Alert, EventLog, Message, PasswordReset, Sitter, User
from app.services.accounts.passwords import check_password_strength
from tests.support.factories import PASSWORD

NEW_PASSWORD = "kibble-and-cuddles-9"


def _log_in(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


@pytest.mark.parametrize(("password", "why"), [
    ("short-1", "Use at least 10 characters."),
    ("Password123", "most common passwords"),
    ("qwertyuiop", "most common passwords"),
])
def test_weak_passwords_are_refused(password, why):
    with pytest.raises(InvalidInput, match=why):
        check_password_strength(password)


def test_the_common_password_list_ships_in_the_repository():
    listed = Path(__file__).resolve().parents[2] / "app" / "data" / "common_passwords.txt"
    words = [w for w in listed.read_text().splitlines() if w and not w.startswith("#")]
    assert len(words) >= 100 and "password123" in words


def test_change_password_needs_the_current_one_and_a_strong_new_one(client, make, login_as, db):
    owner = make.user("owner")
    login_as(owner)
    wrong = client.post("/account", data={"current_password": "not-it-at-all", "new_password": NEW_PASSWORD,
                                          "confirm": NEW_PASSWORD})
    assert wrong.status_code == 422 and "That is not your current password." in wrong.get_data(as_text=True)
    weak = client.post("/account", data={"current_password": PASSWORD, "new_password": "password1234",
                                         "confirm": "password1234"})
    assert weak.status_code == 422 and "most common passwords" in weak.get_data(as_text=True)
    differ = client.post("/account", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                           "confirm": NEW_PASSWORD + "x"})
    assert differ.status_code == 422 and "The two passwords differ." in differ.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, owner.id).check_password(PASSWORD)
    assert client.post("/account", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                         "confirm": NEW_PASSWORD}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, owner.id).check_password(NEW_PASSWORD)


def _reset(visitor, token, password, confirm=None):
    return visitor.post("/reset", data={"token": token, "password": password, "confirm": confirm or password})


def test_an_owner_issues_a_one_time_reset_link_shown_once(app, client, make, login_as, db, clock):
    owner, staff = make.user("owner"), make.user("staff")
    elsewhere = app.test_client()
    assert _log_in(elsewhere, staff.email, PASSWORD).status_code == 302
    login_as(owner)
    page = client.post(f"/admin/users/{staff.id}/reset-link")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    link = re.search(r'value="(https://pawline\.test/reset#t=[^"]+)"', page.get_data(as_text=True)).group(1)
    token = link.split("#t=", 1)[1]
    assert token not in client.get("/admin/users").get_data(as_text=True)  # shown once
    assert db.session.scalar(select(PasswordReset.token_hash)) != token  # kept hashed only

    visitor = app.test_client()
    form = visitor.get("/reset")  # what a browser asks for: the fragment stays behind
    assert form.status_code == 200 and 'name="token"' in form.get_data(as_text=True)
    assert re.search(r"/js/reset(\.[0-9a-f]+)?\.js", form.get_data(as_text=True))  # fills the token in
    weak = _reset(visitor, token, "abc")
    assert weak.status_code == 422
    assert _reset(visitor, token, NEW_PASSWORD).status_code == 302
    assert elsewhere.get("/admin").status_code == 302  # every session of the user ended
    assert _log_in(app.test_client(), staff.email, NEW_PASSWORD).status_code == 302
    reused = _reset(visitor, token, "another-good-one-1")
    assert reused.status_code == 404  # one time only


def test_a_reset_without_its_token_asks_for_it_and_changes_nothing(app, client, make, login_as, db):
    owner, staff = make.user("owner"), make.user("staff")
    login_as(owner)
    client.post(f"/admin/users/{staff.id}/reset-link")
    visitor = app.test_client()
    missing = _reset(visitor, "", NEW_PASSWORD)
    assert missing.status_code == 422 and "Paste the code from your reset link" in missing.get_data(as_text=True)
    assert _reset(visitor, "not-the-token", NEW_PASSWORD).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, staff.id).check_password(PASSWORD)


def test_an_old_style_reset_link_is_refused_without_using_its_token(app, client, make, login_as, db):
    owner, staff = make.user("owner"), make.user("staff")
    login_as(owner)
    html = client.post(f"/admin/users/{staff.id}/reset-link").get_data(as_text=True)
    token = re.search(r'#t=([^"]+)"', html).group(1)
    visitor = app.test_client()
    for answer in (visitor.get(f"/reset/{token}"),
                   visitor.post(f"/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})):
        assert answer.status_code == 410 and "Ask an owner for a new one" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, staff.id).check_password(PASSWORD)
    assert db.session.scalar(select(PasswordReset.used_at)) is None  # not consumed: the new form still takes it
    assert _reset(visitor, token, NEW_PASSWORD).status_code == 302


def test_a_reset_link_lasts_one_hour_and_a_new_one_retires_the_old(app, client, make, login_as, clock, db):
    owner, staff = make.user("owner"), make.user("staff")
    login_as(owner)

    def issue():
        html = client.post(f"/admin/users/{staff.id}/reset-link").get_data(as_text=True)
        return re.search(r'value="https://pawline\.test/reset#t=([^"]+)"', html).group(1)

    first = issue()
    second = issue()
    visitor = app.test_client()
    assert _reset(visitor, first, NEW_PASSWORD).status_code == 404
    clock.advance(minutes=61)
    assert _reset(visitor, second, NEW_PASSWORD).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, staff.id).check_password(PASSWORD)


def test_only_owners_issue_links_and_only_for_their_org(client, make, login_as):
    staff = make.user("staff")
    stranger = make.user("staff", org=make.org(name="Elsewhere"))
    login_as(make.user("owner"))
    assert client.post(f"/admin/users/{stranger.id}/reset-link").status_code == 404
    login_as(staff)
    assert client.post(f"/admin/users/{staff.id}/reset-link").status_code == 404


def _code_text(db, to):
    message = db.session.scalar(select(Message).where(Message.to_e164 == to).order_by(Message.id.desc()))
    return message, re.search(r"code is (\d{6})", message.body).group(1)


def test_a_sitter_resets_by_a_code_texted_from_the_front_desk(app, client, make, db):
    front_desk = make.number("front_desk")
    sitter = make.sitter(phone_e164="+12025550147")
    phone = app.test_client()
    assert _log_in(phone, sitter.user.email, PASSWORD).status_code == 302
    response = client.post("/forgot", data={"email": sitter.user.email})
    assert response.status_code == 302 and "/forgot/code" in response.headers["Location"]
    message, code = _code_text(db, "+12025550147")
    assert message.message_number_id == front_desk.id and message.thread_id is None
    assert message.status in ("queued", "sent", "delivered")
    assert "is on its way by text" in client.get(response.headers["Location"]).get_data(as_text=True)
    wrong = "000000" if code != "000000" else "111111"
    bad = client.post("/forgot/code", data={"email": sitter.user.email, "code": wrong,
                                            "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert bad.status_code == 422 and "That code is not right" in bad.get_data(as_text=True)
    ok = client.post("/forgot/code", data={"email": sitter.user.email, "code": code,
                                           "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert ok.status_code == 302
    assert phone.get("/sitter").status_code == 302
    assert _log_in(app.test_client(), sitter.user.email, NEW_PASSWORD).status_code == 302
    again = client.post("/forgot/code", data={"email": sitter.user.email, "code": code,
                                              "password": "yet-another-one-2", "confirm": "yet-another-one-2"})
    assert again.status_code == 422  # used


def test_five_wrong_codes_void_it(client, make, db):
    make.number("front_desk")
    sitter = make.sitter()
    client.post("/forgot", data={"email": sitter.user.email})
    _, code = _code_text(db, sitter.phone_e164)
    wrong = [c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c != code][:5]
    for guess in wrong:
        client.post("/forgot/code", data={"email": sitter.user.email, "code": guess,
                                          "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    late = client.post("/forgot/code", data={"email": sitter.user.email, "code": code,
                                             "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert late.status_code == 422


def _forgot(client, email):
    return client.post("/forgot", data={"email": email})


def _texts(db) -> int:
    return db.session.scalar(select(func.count(Message.id)))


def _answer(response, email) -> tuple[int, str]:
    """What the person sees, with the email they typed taken out (to compare two emails' answers)."""
    html = response.get_data(as_text=True).replace(email, "EMAIL")
    html = re.sub(r'name="csrf_token"[^>]*>', "", html)
    location = response.headers.get("Location", "").replace(email.replace("@", "%40"), "EMAIL")
    return response.status_code, location.replace(email, "EMAIL") + re.sub(r"<[^>]+>", " ", html)


def test_a_valid_code_is_not_texted_again_and_the_answer_says_until_when(client, make, db, clock):
    make.number("front_desk")
    sitter = make.sitter()
    assert _forgot(client, sitter.user.email).status_code == 302
    assert _texts(db) == 1
    clock.advance(minutes=5)
    again = _forgot(client, sitter.user.email.upper())  # the same login, typed differently
    assert again.status_code == 200
    assert "A code was already sent" in again.get_data(as_text=True)
    assert "valid until 15:15 UTC" in again.get_data(as_text=True)  # sent at 15:00, 15 minutes
    assert _texts(db) == 1
    clock.advance(minutes=11)  # the first code has expired: a new one may be sent
    assert _forgot(client, sitter.user.email).status_code == 302
    assert _texts(db) == 2


def test_at_most_the_daily_allowance_of_codes_per_login(app, client, make, db, clock):
    make.number("front_desk")
    sitter = make.sitter()
    app.config["RESET_CODES_PER_DAY"] = 3
    for _ in range(3):
        assert _forgot(client, sitter.user.email).status_code == 302
        clock.advance(minutes=16)
    refused = _forgot(client, sitter.user.email)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 3600
    assert "At most 3 codes can be texted for one login in a day" in refused.get_data(as_text=True)
    assert "after 15:00 UTC on Nov 26" in refused.get_data(as_text=True)  # the first one plus a day
    assert _texts(db) == 3
    clock.set(datetime(2026, 11, 26, 15, 1, tzinfo=UTC))
    assert _forgot(client, sitter.user.email).status_code == 302
    assert _texts(db) == 4


def test_known_and_unknown_emails_get_the_same_answers(app, client, make, db, clock):
    """No enumeration: the answers (sent, already sent, used up) follow the email asked about,
    never whether a login has it."""
    make.number("front_desk")
    sitter = make.sitter()
    unknown = "nobody@example.test"
    app.config["RESET_CODES_PER_DAY"] = 2
    steps = [0, 5, 16, 20, 32]  # sent, already sent, sent, already sent, used up (two a day)
    answers = {sitter.user.email: [], unknown: []}
    for email in answers:
        for minutes in steps:
            clock.set(datetime(2026, 11, 25, 15, 0, tzinfo=UTC) + timedelta(minutes=minutes))
            answers[email].append(_answer(_forgot(client, email), email))
    assert [status for status, _ in answers[unknown]] == [302, 200, 302, 200, 429]
    assert answers[sitter.user.email] == answers[unknown]
    assert _texts(db) == 2  # the real login got its two codes; the unknown email none


def test_code_requests_are_throttled_per_address(client, make, db, clock):
    make.number("front_desk")
    for i in range(10):
        assert _forgot(client, f"someone-{i}@example.test").status_code == 302
    refused = _forgot(client, make.sitter().user.email)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert _texts(db) == 0


def test_a_sitter_who_cannot_get_a_code_is_in_the_audit_log_but_never_an_owner_alert(client, make, db, clock):
    sitter = make.sitter()  # the org has no front-desk number
    for _ in range(3):  # anonymous requests: a stranger must not flood the owners' alerts
        assert _forgot(client, sitter.user.email).status_code in (302, 200)
        clock.advance(minutes=16)
    assert db.session.scalar(select(func.count(Alert.id))) == 0
    events = db.session.scalars(select(EventLog).where(EventLog.kind == "user.reset_code_not_sent")).all()
    assert len(events) == 3 and "front-desk number" in events[0].payload["reason"]
    assert _texts(db) == 0


def test_an_owner_adds_a_login_to_an_existing_sitter(app, client, make, login_as, db):
    sitter = make.sitter(with_login=False, name="Robin Hart")
    login_as(make.user("staff"))
    assert client.post(f"/admin/sitters/{sitter.id}/login",
                       data={"email": "robin@example.test", "password": NEW_PASSWORD}).status_code == 404
    login_as(make.user("owner"))
    assert "Give Robin a login" in client.get(f"/admin/sitters/{sitter.id}").get_data(as_text=True)
    weak = client.post(f"/admin/sitters/{sitter.id}/login", data={"email": "robin@example.test", "password": "short"})
    assert weak.status_code == 422
    login_url = f"/admin/sitters/{sitter.id}/login"
    ok = client.post(login_url, data={"email": "Robin@Example.test", "password": NEW_PASSWORD})
    assert ok.status_code == 302
    db.session.expire_all()
    user = db.session.get(Sitter, sitter.id).user
    assert user.email == "robin@example.test" and user.role == "sitter"
    assert _log_in(app.test_client(), "robin@example.test", NEW_PASSWORD).headers["Location"].endswith("/sitter")
    twice = client.post(login_url, data={"email": "r2@example.test", "password": NEW_PASSWORD})
    assert twice.status_code == 422 and "already has a login" in twice.get_data(as_text=True)


def test_guessing_the_current_password_from_a_session_is_throttled_like_a_login(client, make, login_as):
    owner = make.user("owner")
    login_as(owner)
    for _ in range(10):
        response = client.post("/account", data={"current_password": "a-wrong-guess-1", "new_password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD})
        assert response.status_code == 422
    refused = client.post("/account", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                            "confirm": NEW_PASSWORD})
    assert refused.status_code == 429 and "Try again in about" in refused.get_data(as_text=True)
