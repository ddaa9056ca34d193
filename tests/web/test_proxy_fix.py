"""Behind PROXY_COUNT proxies the app sees the client's scheme, host and address."""

from __future__ import annotations

import pytest
from flask import request

from app.config import ConfigError, build_config

FORWARDED = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "pawline.example.com"}


def _probe(app):
    @app.route("/_whoami")
    def _whoami():
        return f"{request.remote_addr} {request.scheme} {request.host} {request.url}"

    return app.test_client().get("/_whoami", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.2"},
                                 base_url="http://10.0.0.1:8000").get_data(as_text=True)


def test_one_trusted_proxy_gives_the_client_address_and_the_public_https_url(app_factory):
    seen = _probe(app_factory(PROXY_COUNT=1, SERVER_NAME=None))
    assert seen == "198.51.100.7 https pawline.example.com https://pawline.example.com/_whoami"


def test_without_proxies_forwarded_headers_are_ignored(app_factory):
    seen = _probe(app_factory(PROXY_COUNT=0, SERVER_NAME=None))
    assert seen == "10.0.0.2 http 10.0.0.1:8000 http://10.0.0.1:8000/_whoami"


def test_hsts_follows_the_forwarded_scheme_in_production(app_factory):
    app = app_factory(APP_ENV="production", SECRET_KEY="x" * 40, PROXY_COUNT=1, SERVER_NAME=None)
    response = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers


@pytest.mark.parametrize("value", ["one", "-1", "9"])
def test_proxy_count_must_be_a_small_whole_number(value, tmp_path, monkeypatch):
    monkeypatch.setenv("PROXY_COUNT", value)
    with pytest.raises(ConfigError, match="PROXY_COUNT"):
        build_config(str(tmp_path), {"APP_ENV": "test"})
