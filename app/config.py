"""Settings read from the environment, validated once when the app is built."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "Pawline"  # the working product name lives here and nowhere else

ENVIRONMENTS = ("development", "test", "production")
SMS_PROVIDERS = ("twilio", "outbox")
MEDIA_STORAGES = ("filesystem", "s3")


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message names the setting."""


def _instance_sqlite_url(instance_path: str) -> str:
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(instance_path) / 'pawline.sqlite3'}"


def _normalise_database_url(url: str) -> str:
    # Heroku-style URLs and bare postgresql:// should use psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def build_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Return the Flask config mapping: environment first, then explicit overrides."""
    env = os.environ
    overrides = dict(overrides or {})
    app_env = overrides.get("APP_ENV", env.get("APP_ENV", "development"))
    if app_env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, got {app_env!r}")

    twilio_sid = env.get("TWILIO_ACCOUNT_SID") or None
    twilio_token = env.get("TWILIO_AUTH_TOKEN") or None
    cfg: dict = {
        "APP_ENV": app_env,
        "APP_NAME": APP_NAME,
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or None,
        "REDIS_URL": env.get("REDIS_URL") or None,
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY") or None,
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET") or None,
        "TWILIO_ACCOUNT_SID": twilio_sid,
        "TWILIO_AUTH_TOKEN": twilio_token,
        # During a token rotation only: the token Twilio still signs webhooks with until the new
        # one is promoted (docs/operations.md). Webhooks only; API calls use TWILIO_AUTH_TOKEN.
        "TWILIO_AUTH_TOKEN_PREVIOUS": env.get("TWILIO_AUTH_TOKEN_PREVIOUS") or None,
        "SMS_PROVIDER": env.get("SMS_PROVIDER") or None,
        "PUBLIC_BASE_URL": (env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        # Sessions: a sitter's phone changes IP all day; "strong" would log it out.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # A dashboard left open all day must still be able to send: tie the token
        # to the session instead of a one-hour clock.
        "WTF_CSRF_TIME_LIMIT": None,
        # No pool_pre_ping: app.persistence.db_pool pings a pooled connection only after it sat idle.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # Embedded queue: fire scheduled jobs from a thread inside the server.
        "EMBEDDED_SCHEDULER": app_env == "development",
        "MAX_CONTENT_LENGTH": 1024 * 1024,  # webhooks and forms; a 2 MB body is refused
        # Web Push (VAPID, RFC 8292): `flask --app app vapid-keys` prints a pair. Unset: no push
        # button is offered and notifications fall back to the SMS ping or the open page.
        "VAPID_PUBLIC_KEY": env.get("VAPID_PUBLIC_KEY") or None,
        "VAPID_PRIVATE_KEY": env.get("VAPID_PRIVATE_KEY") or None,
        "VAPID_SUBJECT": env.get("VAPID_SUBJECT") or None,
        "PUSH_TIMEOUT_SECONDS": 10,
        # Push endpoints are URLs a browser hands us: only public https ones are called,
        # so a subscription cannot make the server post to its own network. Tests that run
        # a push-service stand-in on loopback switch this on.
        "PUSH_ALLOW_LOOPBACK": False,
        # How many reverse proxies (TLS terminators, load balancers) stand in front of the
        # app and set X-Forwarded-For/-Proto/-Host/-Port. 0: none, the headers are ignored.
        "PROXY_COUNT": env.get("PROXY_COUNT", "0"),
        # Content-hashed, compressed copies of app/static served by WhiteNoise.
        "STATIC_BUILD_DIR": env.get("STATIC_BUILD_DIR") or str(Path(instance_path) / "static-build"),
        # Photo uploads (sitter compose, owner replies) may be larger: up to ten phone photos
        # before they are resized. Applied per request by the upload views only.
        "MEDIA_UPLOAD_MAX_BYTES": int(env.get("MEDIA_UPLOAD_MAX_BYTES") or 60 * 1024 * 1024),
        # Media store: files under instance/media by default, S3-compatible storage in production.
        "MEDIA_STORAGE": env.get("MEDIA_STORAGE") or "filesystem",
        "MEDIA_ROOT": env.get("MEDIA_ROOT") or str(Path(instance_path) / "media"),
        "MEDIA_S3_BUCKET": env.get("MEDIA_S3_BUCKET") or None,
        "MEDIA_S3_ENDPOINT_URL": env.get("MEDIA_S3_ENDPOINT_URL") or None,
        "MEDIA_S3_REGION": env.get("MEDIA_S3_REGION") or None,
        "MEDIA_S3_ACCESS_KEY_ID": env.get("MEDIA_S3_ACCESS_KEY_ID") or None,
        "MEDIA_S3_SECRET_ACCESS_KEY": env.get("MEDIA_S3_SECRET_ACCESS_KEY") or None,
        # Inbound media are fetched from this origin only (no server-side request forgery).
        "TWILIO_MEDIA_ORIGIN": "https://api.twilio.com",
        # How long the signed URL handed to Twilio for an outbound photo stays valid.
        "MEDIA_URL_TTL_SECONDS": 3600,
    }
    if app_env == "production":
        cfg["SESSION_COOKIE_SECURE"] = True
        cfg["REMEMBER_COOKIE_SECURE"] = True
    if app_env == "test":
        cfg["EMBEDDED_SCHEDULER"] = False

    cfg.update(overrides)

    if not cfg["SQLALCHEMY_DATABASE_URI"]:
        cfg["SQLALCHEMY_DATABASE_URI"] = _instance_sqlite_url(instance_path)
    cfg["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(cfg["SQLALCHEMY_DATABASE_URI"])

    # Bound values (clients' numbers, message bodies) stay out of exception messages and logs.
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {**cfg["SQLALCHEMY_ENGINE_OPTIONS"], "hide_parameters": True}

    try:
        cfg["PROXY_COUNT"] = int(cfg["PROXY_COUNT"])
    except (TypeError, ValueError):
        raise ConfigError(f"PROXY_COUNT must be a whole number of proxies, got {cfg['PROXY_COUNT']!r}") from None
    if not 0 <= cfg["PROXY_COUNT"] <= 5:
        raise ConfigError(f"PROXY_COUNT must be between 0 and 5, got {cfg['PROXY_COUNT']}")

    if not cfg["SECRET_KEY"]:
        if cfg["APP_ENV"] == "production":
            raise ConfigError("SECRET_KEY must be set in production (a long random string)")
        cfg["SECRET_KEY"] = "dev-only-not-secret"

    provider = cfg["SMS_PROVIDER"] or (
        "twilio" if cfg["TWILIO_ACCOUNT_SID"] and cfg["TWILIO_AUTH_TOKEN"] else "outbox"
    )
    if provider not in SMS_PROVIDERS:
        raise ConfigError(f"SMS_PROVIDER must be one of {', '.join(SMS_PROVIDERS)}, got {provider!r}")
    if provider == "twilio" and not (cfg["TWILIO_ACCOUNT_SID"] and cfg["TWILIO_AUTH_TOKEN"]):
        raise ConfigError("SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
    cfg["SMS_PROVIDER"] = provider
    if cfg["MEDIA_STORAGE"] not in MEDIA_STORAGES:
        raise ConfigError(f"MEDIA_STORAGE must be one of {', '.join(MEDIA_STORAGES)}, got {cfg['MEDIA_STORAGE']!r}")
    if cfg["MEDIA_STORAGE"] == "s3" and not cfg["MEDIA_S3_BUCKET"]:
        raise ConfigError("MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET (and MEDIA_S3_ENDPOINT_URL for non-AWS storage)")
    if bool(cfg["VAPID_PUBLIC_KEY"]) != bool(cfg["VAPID_PRIVATE_KEY"]):
        raise ConfigError("VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together (flask vapid-keys)")
    if cfg["VAPID_PRIVATE_KEY"] and not cfg["VAPID_SUBJECT"]:
        raise ConfigError("VAPID_SUBJECT must be set with the VAPID keys (mailto:you@example.com or an https URL)")
    if cfg["APP_ENV"] == "production" and provider == "twilio" and not cfg["PUBLIC_BASE_URL"]:
        raise ConfigError("PUBLIC_BASE_URL must be set in production to validate Twilio signatures")
    return cfg
