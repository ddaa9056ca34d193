"""/admin/rq on real Redis: owners and staff see rq-dashboard, sitters get 404, anonymous log in."""

from __future__ import annotations

import pytest


def _client_as(app, user=None):
    client = app.test_client()
    if user is not None:
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
    return client


@pytest.mark.parametrize("role", ["owner", "staff"])
def test_owner_side_gets_the_dashboard(redis_app, make, role):
    response = _client_as(redis_app, make.user(role)).get("/admin/rq/", follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "RQ Dashboard" in page or "rq-dashboard" in page.lower()


def test_sitter_gets_404_and_anonymous_goes_to_login(redis_app, make):
    sitter = make.sitter()
    assert _client_as(redis_app, sitter.user).get("/admin/rq/").status_code == 404
    response = _client_as(redis_app).get("/admin/rq/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # The dashboard's own JSON and POST endpoints are behind the same check.
    assert _client_as(redis_app, sitter.user).get("/admin/rq/0/data/queues.json").status_code == 404
    assert _client_as(redis_app).post("/admin/rq/queue/default/queued/empty").status_code == 302
    assert _client_as(redis_app, sitter.user).post("/admin/rq/queue/default/queued/empty").status_code == 404
