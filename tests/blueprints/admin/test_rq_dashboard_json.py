"""The RQ dashboard before login and with our JSON jobs: 4xx or the page, never a 500."""

from __future__ import annotations

import pytest

from app.services.accounts.passwords import create_operator
from tests.support.login import log_in


@pytest.fixture
def operator(redis_app):
    return create_operator("ops@pawline.test", "operator-at-2am-42", "Ops")


@pytest.mark.parametrize("path", ["/admin/rq/7/view", "/admin/rq/1/view/jobs", "/admin/rq/3/data/queues.json"])
def test_an_instance_number_before_login_goes_to_the_login_page(redis_app, path):
    response = redis_app.test_client().get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_instance_the_dashboard_does_not_have_is_404_for_an_operator(redis_app, operator):
    client = log_in(redis_app.test_client(), operator)
    assert client.get("/admin/rq/7/view").status_code == 404


def test_the_operator_sees_a_finished_json_job_in_the_list_and_its_details(redis_app, operator):
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    from app.jobs.worker import build_worker

    redis = Redis.from_url(redis_app.config["REDIS_URL"])
    queue = Queue("default", connection=redis, serializer=JSONSerializer)  # as app.jobs.queue enqueues
    job = queue.enqueue("builtins.len", [1, 2, 3], job_id="walls-json-job")
    build_worker(redis_app, forking=False, queue_names=("default",)).work(burst=True)  # ours: no 60 s teardown
    assert job.get_status(refresh=True) == "finished"
    client = log_in(redis_app.test_client(), operator)
    listed = client.get("/admin/rq/0/data/jobs/default/finished/10/asc/1.json")
    assert listed.status_code == 200 and [j["id"] for j in listed.get_json()["jobs"]] == ["walls-json-job"]
    detail = client.get("/admin/rq/0/data/job/walls-json-job.json")
    assert detail.status_code == 200 and detail.get_json()["status"] == "finished"
    assert client.get("/admin/rq/0/view/job/walls-json-job").status_code == 200
