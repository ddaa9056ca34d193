"""/healthz: status for everyone; each part, naming the one that is down, for METRICS_TOKEN or an operator."""

from __future__ import annotations

import pytest

from app.services.accounts.passwords import create_operator
from tests.support.login import log_in

TOKEN = "metrics-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app_config():
    return {"METRICS_TOKEN": TOKEN}


def test_the_public_answer_is_the_status_only(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert client.get("/healthz", headers={"Authorization": "Bearer wrong"}).get_json() == {"status": "ok"}
    assert client.get("/healthz", headers={"Authorization": "Bearer \u00e9"}).get_json() == {"status": "ok"}


def test_an_operator_sees_the_parts(client, db):
    log_in(client, create_operator("ops@pawline.test", "operator-at-2am-42", "Ops"))
    assert client.get("/healthz").get_json()["queue"]["backend"] == "in-process"


def test_an_org_user_sees_the_status_only(client, make, login_as):
    login_as(make.user("owner"))
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_healthz_ok_on_embedded_default(client):
    response = client.get("/healthz", headers=AUTH)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["queue"]["backend"] == "in-process"


def test_healthz_ok_with_redis(redis_app):
    response = redis_app.test_client().get("/healthz", headers=AUTH)
    assert response.status_code == 200
    assert response.get_json()["queue"]["backend"] == "rq"


def test_healthz_names_redis_when_it_is_down(app_factory):
    app = app_factory(REDIS_URL="redis://127.0.0.1:1/0", METRICS_TOKEN=TOKEN)
    assert app.test_client().get("/healthz").get_json() == {"status": "down"}
    response = app.test_client().get("/healthz", headers=AUTH)
    assert response.status_code == 503
    body = response.get_json()
    assert body["down"] == ["queue"]
    assert body["database"]["ok"] is True


def test_healthz_names_the_database_when_it_is_down(app_factory, tmp_path):
    app = app_factory(f"sqlite:///{tmp_path}/missing-dir/nope/db.sqlite3", METRICS_TOKEN=TOKEN)
    response = app.test_client().get("/healthz", headers=AUTH)
    assert response.status_code == 503
    assert response.get_json()["down"] == ["database"]
