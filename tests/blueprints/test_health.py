"""/healthz reports each part, and names the part that is down."""

from __future__ import annotations


def test_healthz_ok_on_embedded_default(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["queue"]["backend"] == "in-process"


def test_healthz_ok_with_redis(redis_app):
    response = redis_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["queue"]["backend"] == "rq"


def test_healthz_names_redis_when_it_is_down(app_factory):
    app = app_factory(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["down"] == ["queue"]
    assert body["database"]["ok"] is True


def test_healthz_names_the_database_when_it_is_down(app_factory, tmp_path):
    app = app_factory(f"sqlite:///{tmp_path}/missing-dir/nope/db.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["down"] == ["database"]
