"""Visit alerts that need a person reach one: a client's worried reply to a visit report and a
sitter marked not to be sent to a client who still has visits with them are pushed to owners and
staff who turned on the office's notifications, on the devices they opted in, never to the marked
sitter, never with a client's phone number or the reply itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Alert, Notification
from app.services.notifications import notify as notifications
from app.services.visits.checks import check_in
from app.services.visits.reports import submit_visit_report
from tests.support.factories import CONFIRMED
from tests.support.login import log_in
from tests.support.push import PUBLIC, PUSH_CONFIG, SUBJECT
from tests.support.push_stand_in import PushStandIn
from tests.support.sitter_data import make_visit
from tests.support.twilio_stand_in import fixture_fields, post_signed

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York
CLIENT_PHONE = "+12025550101"
_sids = count(1)


@pytest.fixture
def app_config():
    return dict(PUSH_CONFIG)


def _token(subscription: dict) -> str:
    return subscription["endpoint"].rsplit("/", 1)[-1]


def _rows(kind: str) -> list[Notification]:
    db.session.rollback()
    return db.session.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id)).all()


def _reply(client, visit, body: str) -> None:
    response = post_signed(client, "/webhooks/twilio/sms", fixture_fields(
        "inbound-sms", From=CLIENT_PHONE, To=visit.thread.message_number.e164, Body=body,
        MessageSid=f"SM{next(_sids):032d}", SmsSid=None, SmsMessageSid=None))
    assert response.status_code == 200


@pytest.fixture
def reported(make, clock):
    """A visit whose report was texted to the client ten minutes ago (the window is still open)."""
    clock.set(START + timedelta(minutes=2))
    alex = make.client(name="Alex Morgan", pets=("Biscuit",), phone_e164=CLIENT_PHONE)
    visit = make_visit(make, start=START, hours=1, client=alex)
    check_in(visit.user.id, visit.booking.id)
    clock.advance(minutes=40)
    submit_visit_report(visit.user.id, visit.booking.id, note="Biscuit ate everything.", checklist=["Fed"])
    clock.advance(minutes=10)
    return visit


def test_a_worried_reply_is_pushed_once_to_the_office_devices_that_opted_in(client, make, reported):
    owner, staff, staff_off = make.user("owner"), make.user("staff"), make.user("staff")
    former = make.user("staff")
    with PushStandIn(PUBLIC, SUBJECT) as push:
        notifications.save_push_subscription(former, push.subscribe(), device="old phone", inbox_items=True)
        former.active = False  # deactivated (its devices would be forgotten too; this asks the query alone)
        db.session.commit()
        desk = push.subscribe()
        notifications.save_push_subscription(owner, desk, device="laptop", inbox_items=True)
        owner_phone = push.subscribe()  # the same owner's phone, not opted in for the office's news
        notifications.save_push_subscription(owner, owner_phone, device="phone", inbox_items=False)
        staff_desk = push.subscribe()
        notifications.save_push_subscription(staff, staff_desk, device="tablet", inbox_items=True)
        notifications.save_push_subscription(staff_off, push.subscribe(), device="phone", inbox_items=False)
        notifications.save_push_subscription(reported.user, push.subscribe(), device="phone")
        _reply(client, reported, "Biscuit is limping and there's blood on his paw, call me on 202 555 0199")
        # The office's two opted-in devices get the concern; the sitter gets the usual client_text.
        received = push.wait_for(3)
        _reply(client, reported, "Also he didn't eat his dinner")  # the report's second worry: no second push
        received = push.wait_for(4)
    concern = [r for r in received if r.payload["kind"] == "visit_concern"]
    assert sorted(r.token for r in concern) == sorted([_token(desk), _token(staff_desk)])
    assert _token(owner_phone) not in {r.token for r in received}
    assert concern[0].payload == concern[1].payload and all(r.problems == [] for r in received)
    payload = concern[0].payload
    assert payload["title"] == "Concern from Alex (Biscuit)"
    assert payload["body"] == "Their reply to the Wed 25 Nov, 9:00 AM visit report mentions: blood, limping."
    assert payload["url"] == f"/admin/bookings/{reported.booking.id}"
    for item in received:  # no number of the client's, and not the reply itself
        assert "0199" not in str(item.payload) and "0101" not in str(item.payload)
        assert "paw" not in str(item.payload)
    assert sorted(r.user_id for r in _rows("visit_concern")) == sorted([owner.id, staff.id])
    assert {r.status for r in _rows("visit_concern")} == {"sent"}
    assert len(db.session.scalars(select(Alert).where(Alert.kind == "visit.report_concern")).all()) == 1


def test_a_calm_reply_pushes_nothing_to_the_office(client, make, reported):
    owner = make.user("owner")
    with PushStandIn(PUBLIC, SUBJECT) as push:
        notifications.save_push_subscription(owner, push.subscribe(), device="laptop", inbox_items=True)
        _reply(client, reported, "No problem at all, thanks! Not sick at all, she's just dramatic")
    assert _rows("visit_concern") == [] and push.received == []
    assert db.session.scalars(select(Alert).where(Alert.kind == "visit.report_concern")).all() == []


def test_a_marked_pair_with_visits_is_pushed_to_the_office_but_never_to_the_marked_sitter(app, make, clock):
    clock.set(START - timedelta(hours=2))
    owner = make.user("owner")
    sitting_owner = make.user("owner", name="Sasha Lee")  # an owner who also takes visits
    alex = make.client(name="Alex Morgan", pets=("Biscuit",), phone_e164=CLIENT_PHONE)
    sasha = make.sitter(name="Sasha Lee", user_id=sitting_owner.id)
    devon = make.sitter(name="Devon Walker")
    first = make_visit(make, sitter=sasha, client=alex, start=START)
    make.booking(client=alex, sitter=sasha, start=START + timedelta(days=2))
    make_visit(make, sitter=devon, client=alex, start=START + timedelta(hours=3))
    with PushStandIn(PUBLIC, SUBJECT) as push:
        desk = push.subscribe()
        notifications.save_push_subscription(owner, desk, device="laptop", inbox_items=True)
        notifications.save_push_subscription(sitting_owner, push.subscribe(), device="phone", inbox_items=True)
        notifications.save_push_subscription(devon.user, push.subscribe(), device="phone")
        browser = app.test_client()
        log_in(browser, owner)
        done = browser.post(f"/admin/clients/{alex.id}/exclusions",
                            data={"sitter_id": sasha.id, "reason": "rude", **CONFIRMED})
        assert done.status_code == 302
        [item] = push.wait_for(1)
    assert item.token == _token(desk) and item.problems == []
    assert item.payload["title"] == "New sitter needed"
    assert item.payload["body"] == ("Sasha Lee is not to be sent to Alex (Biscuit) again: "
                                    "2 upcoming visits with them need another sitter.")
    assert item.payload["url"] == f"/admin/clients/{alex.id}"
    assert "0101" not in str(item.payload)
    rows = _rows("new_sitter_needed")
    assert [(r.user_id, r.booking_id, r.status) for r in rows] == [(owner.id, first.booking.id, "sent")]


def test_a_mark_with_no_upcoming_visits_pushes_nothing(app, make, clock):
    clock.set(START)
    owner = make.user("owner")
    alex, sasha = make.client(name="Alex Morgan"), make.sitter(name="Sasha Lee")
    with PushStandIn(PUBLIC, SUBJECT) as push:
        notifications.save_push_subscription(owner, push.subscribe(), device="laptop", inbox_items=True)
        browser = app.test_client()
        log_in(browser, owner)
        done = browser.post(f"/admin/clients/{alex.id}/exclusions", data={"sitter_id": sasha.id, **CONFIRMED})
        assert done.status_code == 302
    assert _rows("new_sitter_needed") == [] and push.received == []
