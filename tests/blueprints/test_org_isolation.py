"""A user of org A asking for any admin or sitter URL with org B's ids gets 404.

The test walks the app's URL map, so every page added later is covered
without editing this file; a route whose id parameter it does not know fails
the test until the name is added to ROW_FOR_PARAM below.
"""

from __future__ import annotations

import pytest

ROW_FOR_PARAM = {
    "booking_id": "booking",
    "thread_id": "thread",
    "client_id": "client",
    "sitter_id": "sitter",
    "number_id": "number",
    "message_id": "message",
    "user_id": "user",
    "run_id": "run",
    "alert_id": "alert",
    "event_id": "event",
    "window_id": "window",
    "pet_id": "pet",
    "note_id": "care_note",
    "exclusion_id": "exclusion",
    "time_off_id": "time_off",
}


def _org_b_rows(make):
    org_b = make.org(name="Other Org")
    booking = make.booking(org=org_b)
    number = make.number(org=org_b)
    thread = make.thread(booking=booking, number=number)
    window = make.window(thread)
    return {
        "booking": booking.id,
        "thread": thread.id,
        "client": booking.client_id,
        "sitter": booking.sitter_id,
        "number": number.id,
        "message": make.message(thread=thread, body="org B secret").id,
        "user": make.user("staff", org=org_b).id,
        "run": make.automation_run(booking).id,
        "alert": make.alert(org=org_b, text="org B alert").id,
        "event": make.event("booking.confirmed", org=org_b, booking_id=booking.id).id,
        "window": window.id,
        "pet": booking.client.pets[0].id,
        "care_note": _care_note(make, booking),
        "exclusion": _exclusion(make, booking),
        "time_off": _time_off(make, booking),
    }


def _care_note(make, booking) -> int:
    from app.models import CareNote

    note = CareNote(org_id=booking.org_id, client_id=booking.client_id, kind="entry", body="org B lockbox")
    make.session.add(note)
    make.session.commit()
    return note.id


def _time_off(make, booking) -> int:
    from datetime import date

    from app.models import SitterTimeOff

    row = SitterTimeOff(org_id=booking.org_id, sitter_id=booking.sitter_id, first_day=date(2026, 12, 1),
                        last_day=date(2026, 12, 1), note="org B holiday")
    make.session.add(row)
    make.session.commit()
    return row.id


def _exclusion(make, booking) -> int:
    from app.models import SitterExclusion

    row = SitterExclusion(org_id=booking.org_id, client_id=booking.client_id, sitter_id=booking.sitter_id)
    make.session.add(row)
    make.session.commit()
    return row.id


def _id_routes(app, prefix):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefix) and rule.arguments and "GET" in rule.methods:
            if rule.endpoint.startswith("rq_dashboard") or rule.endpoint == "rq_dashboard_unavailable":
                continue
            yield rule


@pytest.mark.parametrize("prefix,role", [("/admin", "owner"), ("/sitter", "sitter")])
def test_other_orgs_ids_answer_404(app, client, make, login_as, prefix, role):
    org_a_user = make.sitter().user if role == "sitter" else make.user("owner")
    rows = _org_b_rows(make)
    login_as(org_a_user)
    checked = []
    for rule in _id_routes(app, prefix):
        unknown = [a for a in rule.arguments if a not in ROW_FOR_PARAM]
        assert not unknown, f"{rule.rule}: add {unknown} to ROW_FOR_PARAM"
        url = rule.build({a: rows[ROW_FOR_PARAM[a]] for a in rule.arguments}, append_unknown=False)[1]
        response = client.get(url)
        assert response.status_code == 404, f"{url} answered {response.status_code}"
        assert b"org B" not in response.data
        checked.append(rule.rule)
    # The walk must really reach the pages (a changed prefix would make it vacuous).
    assert len(checked) >= 3, checked
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefix) and rule.methods & {"POST"} and rule.arguments:
            url = rule.build({a: rows[ROW_FOR_PARAM[a]] for a in rule.arguments}, append_unknown=False)[1]
            assert client.post(url, data={}).status_code == 404, f"POST {url}"
