"""POST /push/subscriptions: known push services only, at most 10 devices, one owner per endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import PushSubscription
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
JSON = {"Accept": "application/json"}


def _sub(endpoint):
    return {"endpoint": endpoint, "keys": {"p256dh": "BP" + "k" * 60, "auth": "a" * 22}}


@pytest.fixture
def visit(make, clock):
    clock.set(START + timedelta(minutes=15))
    return make_visit(make, start=START, hours=1)


@pytest.mark.parametrize("endpoint", ["https://2130706433:8108/x", "https://127.1/x", "https://0/x",
                                      "https://0x7f000001/x", "https://localhost.:8108/x",
                                      "https://127.0.0.1.nip.io/x", "https://push.example.com/x"])
def test_the_probes_endpoints_are_refused_and_not_stored(client, login_as, visit, endpoint):
    login_as(visit.user)
    response = client.post("/push/subscriptions", json=_sub(endpoint), headers=JSON)
    assert response.status_code == 422 and "push service" in response.get_json()["error"]
    assert db.session.scalar(select(PushSubscription)) is None


def test_an_eleventh_device_is_refused_and_an_existing_one_refreshes(client, login_as, visit):
    login_as(visit.user)
    for i in range(10):
        assert client.post("/push/subscriptions", json=_sub(f"https://fcm.googleapis.com/fcm/send/d{i}"),
                           headers=JSON).status_code == 201
    response = client.post("/push/subscriptions", json=_sub("https://fcm.googleapis.com/fcm/send/d10"), headers=JSON)
    assert response.status_code == 409 and "10 devices" in response.get_json()["error"]
    # The same device again is a refresh, not an eleventh.
    assert client.post("/push/subscriptions", json=_sub("https://fcm.googleapis.com/fcm/send/d3"),
                       headers=JSON).status_code == 201
    db.session.rollback()
    assert len(db.session.scalars(select(PushSubscription)).all()) == 10


def test_an_endpoint_held_in_another_org_is_a_clean_409(client, login_as, make, visit):
    endpoint = "https://updates.push.services.mozilla.com/wpush/v2/shared"
    login_as(visit.user)
    assert client.post("/push/subscriptions", json=_sub(endpoint), headers=JSON).status_code == 201
    other_org = make.org(name="Other Paws")
    stranger = make.user(role="owner", org=other_org)
    client.post("/logout")
    login_as(stranger)
    response = client.post("/push/subscriptions", json=_sub(endpoint), headers=JSON)
    assert response.status_code == 409 and "another account" in response.get_json()["error"]
    db.session.rollback()
    row = db.session.execute(select(PushSubscription).execution_options(all_orgs=True)).scalar_one()
    assert (row.org_id, row.user_id) == (visit.user.org_id, visit.user.id)  # not moved across orgs
