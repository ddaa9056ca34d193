"""Settings: production refuses to start without what it needs, naming the setting."""

from __future__ import annotations

import pytest

from app import create_app
from app.config import SETTINGS, ConfigError, build_config


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


# ---- the settings table: every name read, a key passed to create_app wins, cross-checks ----

DESIGN_NAMES = {  # DESIGN.md's environment names → the app.config key each is read into
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI", "REDIS_URL": "REDIS_URL", "SECRET_KEY": "SECRET_KEY",
    "STRIPE_SECRET_KEY": "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET": "STRIPE_WEBHOOK_SECRET",
    "TWILIO_ACCOUNT_SID": "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN": "TWILIO_AUTH_TOKEN",
    "SMS_PROVIDER": "SMS_PROVIDER", "PUBLIC_BASE_URL": "PUBLIC_BASE_URL",
    "METRICS_TOKEN": "METRICS_TOKEN", "SENTRY_DSN": "SENTRY_DSN",
}
DESIGN_VALUES = {"DATABASE_URL": "sqlite:///elsewhere.sqlite3", "SMS_PROVIDER": "twilio",
                 "PUBLIC_BASE_URL": "https://pawline.example.com"}


@pytest.fixture
def environ(monkeypatch):
    """No setting of the table comes from the developer's own environment."""
    for setting in SETTINGS:
        monkeypatch.delenv(setting.variable, raising=False)
    return monkeypatch


def test_every_environment_name_of_the_design_is_read_into_app_config(environ, tmp_path):
    for name in DESIGN_NAMES:
        environ.setenv(name, DESIGN_VALUES.get(name, f"{name.lower()}-value"))
    cfg = build_config(str(tmp_path), {"APP_ENV": "test"})
    assert {name: cfg[key] for name, key in DESIGN_NAMES.items()} == {
        name: DESIGN_VALUES.get(name, f"{name.lower()}-value") for name in DESIGN_NAMES}


def test_a_key_passed_to_create_app_wins_over_the_environment(environ, tmp_path):
    environ.setenv("SECRET_KEY", "from-the-environment")
    environ.setenv("REDIS_URL", "redis://127.0.0.1:6379/9")
    environ.setenv("SMS_PROVIDER", "twilio")
    environ.setenv("DATABASE_URL", "postgres://u@h/from-env")
    cfg = build_config(str(tmp_path), {"APP_ENV": "test", "SECRET_KEY": "passed", "REDIS_URL": None,
                                       "SMS_PROVIDER": "outbox", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert (cfg["SECRET_KEY"], cfg["REDIS_URL"], cfg["SMS_PROVIDER"], cfg["SQLALCHEMY_DATABASE_URI"]) == (
        "passed", None, "outbox", "sqlite://")


def test_an_empty_variable_counts_as_unset(environ, tmp_path):
    environ.setenv("SECRET_KEY", "")
    environ.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY must be set in production"):
        build_config(str(tmp_path))


def test_sms_provider_is_twilio_when_its_credentials_are_set(environ, tmp_path):
    environ.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    environ.setenv("TWILIO_AUTH_TOKEN", "token")
    assert build_config(str(tmp_path), {"APP_ENV": "test"})["SMS_PROVIDER"] == "twilio"


def test_production_with_twilio_refuses_to_start_without_public_base_url(environ, tmp_path):
    environ.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    environ.setenv("TWILIO_AUTH_TOKEN", "token")
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        build_config(str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": "x" * 40})


def test_public_base_url_loses_its_trailing_slash(environ, tmp_path):
    environ.setenv("PUBLIC_BASE_URL", "https://pawline.example.com/")
    assert build_config(str(tmp_path), {"APP_ENV": "test"})["PUBLIC_BASE_URL"] == "https://pawline.example.com"


def test_production_cookies_are_secure_and_test_has_no_embedded_scheduler(environ, tmp_path):
    prod = build_config(str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": "x" * 40})
    test = build_config(str(tmp_path), {"APP_ENV": "test"})
    assert (prod["SESSION_COOKIE_SECURE"], prod["REMEMBER_COOKIE_SECURE"]) == (True, True)
    assert (test["EMBEDDED_SCHEDULER"], build_config(str(tmp_path))["EMBEDDED_SCHEDULER"]) == (False, True)


@pytest.mark.parametrize(("variables", "named"), [
    ({"MEDIA_STORAGE": "tape"}, "MEDIA_STORAGE must be one of"),
    ({"MEDIA_STORAGE": "s3"}, "MEDIA_S3_BUCKET"),
    ({"VAPID_PUBLIC_KEY": "public"}, "VAPID_PRIVATE_KEY"),
    ({"VAPID_PRIVATE_KEY": "private"}, "VAPID_PUBLIC_KEY"),
    ({"VAPID_PUBLIC_KEY": "public", "VAPID_PRIVATE_KEY": "private"}, "VAPID_SUBJECT"),
    ({"MEDIA_UPLOAD_MAX_BYTES": "sixty megabytes"}, "MEDIA_UPLOAD_MAX_BYTES"),
    ({"MEDIA_UPLOAD_MAX_BYTES": "0"}, "MEDIA_UPLOAD_MAX_BYTES"),
])
def test_settings_that_do_not_fit_together_refuse_to_start_naming_them(environ, tmp_path, variables, named):
    for name, value in variables.items():
        environ.setenv(name, value)
    with pytest.raises(ConfigError, match=named):
        build_config(str(tmp_path), {"APP_ENV": "test"})


def test_s3_storage_with_a_bucket_and_a_full_vapid_set_start(environ, tmp_path):
    for name, value in {"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "photos", "VAPID_PUBLIC_KEY": "public",
                        "VAPID_PRIVATE_KEY": "private", "VAPID_SUBJECT": "mailto:ops@example.com",
                        "MEDIA_UPLOAD_MAX_BYTES": "1000"}.items():
        environ.setenv(name, value)
    cfg = build_config(str(tmp_path), {"APP_ENV": "test"})
    assert (cfg["MEDIA_STORAGE"], cfg["MEDIA_S3_BUCKET"], cfg["VAPID_SUBJECT"], cfg["MEDIA_UPLOAD_MAX_BYTES"]) == (
        "s3", "photos", "mailto:ops@example.com", 1000)
