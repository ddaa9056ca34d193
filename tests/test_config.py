"""Settings: production refuses to start without what it needs, naming the setting."""

from __future__ import annotations

import pytest

from app import create_app
from app.config import ConfigError


def test_production_without_secret_key_refuses_to_start(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_unknown_environment_refuses_to_start():
    with pytest.raises(ConfigError, match="APP_ENV"):
        create_app({"APP_ENV": "prod"})


def test_unknown_sms_provider_refuses_to_start():
    with pytest.raises(ConfigError, match="SMS_PROVIDER"):
        create_app({"APP_ENV": "test", "SMS_PROVIDER": "carrier-pigeon", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_twilio_provider_without_credentials_refuses_to_start(monkeypatch):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID"):
        create_app({"APP_ENV": "test", "SMS_PROVIDER": "twilio", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_sms_provider_defaults_to_outbox_without_twilio(monkeypatch):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("SMS_PROVIDER", raising=False)
    app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SMS_PROVIDER"] == "outbox"


def test_heroku_style_postgres_url_uses_psycopg3(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/d")
    app = create_app({"APP_ENV": "test"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/d"
