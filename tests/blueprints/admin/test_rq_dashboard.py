"""/admin/rq on real Redis: it shows every org's jobs, so only operators (outside every org) get it."""

from __future__ import annotations

import pytest
from werkzeug.routing import BuildError

from app.models import Operator
from app.services.accounts.passwords import create_operator
from tests.support.login import log_in

OPERATOR_PASSWORD = "operator-at-2am-42"


def _client_as(app, principal=None):
    client = app.test_client()
    return log_in(client, principal) if principal is not None else client


@pytest.fixture
def operator(redis_app):
    return create_operator("ops@pawline.test", OPERATOR_PASSWORD, "Ops")


def _queued_job(app):
    """A job on the shared `default` queue (as org 1's send job would be)."""
    from redis import Redis
    from rq import Queue

    queue = Queue("default", connection=Redis.from_url(app.config["REDIS_URL"]))
    return queue.enqueue("app.jobs.send_message", 1, job_id="send-message-1")


def _dashboard_urls(app):
    """Every route of rq-dashboard's blueprint, with made-up arguments, and its methods."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("rq_dashboard."):
                continue
            args = {name: (0 if "instance" in name else "default") for name in rule.arguments}
            args.update({k: v for k, v in (rule.defaults or {}).items()})
            try:
                path = rule.build(args, append_unknown=False)[1]
            except (BuildError, TypeError, ValueError):  # pragma: no cover - a rule we cannot fill
                continue
            urls.append((path, sorted(rule.methods - {"HEAD", "OPTIONS"})))
    return urls


def test_operator_gets_the_dashboard(redis_app, operator):
    response = _client_as(redis_app, operator).get("/admin/rq/", follow_redirects=True)
    assert response.status_code == 200
    assert "rq" in response.get_data(as_text=True).lower()


@pytest.mark.parametrize("role", ["owner", "staff", "sitter"])
def test_every_dashboard_route_is_404_for_every_org_user(redis_app, make, role):
    user = make.sitter().user if role == "sitter" else make.user(role)
    client = _client_as(redis_app, user)
    urls = _dashboard_urls(redis_app)
    assert len(urls) >= 10  # the views, the JSON and the actions
    for path, methods in urls:
        for method in methods:
            response = client.open(path, method=method, headers={"Origin": "https://pawline.test"},
                                    follow_redirects=True)
            assert response.status_code == 404, (method, path, response.status_code)


def test_another_orgs_owner_cannot_delete_a_job(redis_app, make):
    from rq.job import Job

    job = _queued_job(redis_app)
    other_owner = make.user("owner", org=make.org(name="Other Org"))
    client = _client_as(redis_app, other_owner)
    response = client.post(f"/admin/rq/job/{job.id}/delete", headers={"Origin": "https://pawline.test"})
    assert response.status_code == 404
    assert Job.exists(job.id, connection=job.connection)


def test_anonymous_goes_to_login(redis_app):
    response = _client_as(redis_app).get("/admin/rq/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _client_as(redis_app).post("/admin/rq/queue/default/queued/empty").status_code == 302


def test_state_never_changes_on_a_get(redis_app, operator):
    _queued_job(redis_app)
    response = _client_as(redis_app, operator).get("/admin/rq/requeue/default")
    assert response.status_code == 405


def test_cross_site_posts_are_refused_and_same_site_ones_work(redis_app, operator):
    from rq.job import Job

    job = _queued_job(redis_app)
    client = _client_as(redis_app, operator)
    for headers in ({}, {"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"}):
        assert client.post(f"/admin/rq/job/{job.id}/delete", headers=headers).status_code == 403
        assert Job.exists(job.id, connection=job.connection)
    response = client.post(f"/admin/rq/job/{job.id}/delete", headers={"Origin": "https://pawline.test"})
    assert response.status_code == 200
    assert not Job.exists(job.id, connection=job.connection)


def test_operator_logs_in_lands_on_the_dashboard_and_has_no_org_pages(redis_app, operator):
    client = redis_app.test_client()
    response = client.post("/login", data={"email": "OPS@pawline.test", "password": OPERATOR_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/rq/")
    assert client.get("/admin/rq/").status_code == 200
    assert client.get("/admin").status_code == 404
    assert client.get("/sitter").status_code == 404
    assert client.get("/account").status_code == 404


def test_create_operator_command(redis_app, db):
    runner = redis_app.test_cli_runner()
    result = runner.invoke(args=["create-operator", "night@pawline.test"],
                           input=f"{OPERATOR_PASSWORD}\n{OPERATOR_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Created operator night@pawline.test" in result.output
    operator = db.session.query(Operator).filter_by(email="night@pawline.test").one()
    assert operator.check_password(OPERATOR_PASSWORD)
    again = runner.invoke(args=["create-operator", "night@pawline.test"],
                          input=f"{OPERATOR_PASSWORD}\n{OPERATOR_PASSWORD}\n")
    assert again.exit_code == 2 and "already exists" in again.output
    weak = runner.invoke(args=["create-operator", "weak@pawline.test"], input="password123\npassword123\n")
    assert weak.exit_code == 2 and "common" in weak.output


def test_without_redis_the_dashboard_is_404_for_operators_and_org_users(app, make):
    operator = create_operator("ops@pawline.test", OPERATOR_PASSWORD)
    assert _client_as(app, operator).get("/admin/rq/").status_code == 404
    assert _client_as(app, make.user("owner")).get("/admin/rq/").status_code == 404
