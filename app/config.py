"""Settings read from the environment, validated once when the app is built.

`SETTINGS` is the one table of what the environment may set: each row names the variable,
how its text is read, its default and whether production refuses to start without it.
`build_config` resolves every row (a key passed to `create_app` wins over the environment;
an empty variable counts as unset), adds the fixed settings, then runs `CROSS_CHECKS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.vapid_keys import EMBEDDED_SUBJECT, instance_vapid_keys

APP_NAME = "Pawline"  # the working product name lives here and nowhere else

ENVIRONMENTS = ("development", "test", "production")
SMS_PROVIDERS = ("twilio", "outbox")
LOG_FORMATS = ("text", "json")
MEDIA_STORAGES = ("filesystem", "s3")


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message names the setting."""


# Readers: take the variable's text (or a value passed to create_app) and return the setting's
# value, or raise ValueError saying what was expected; the caller names the setting.


def as_is(value: Any) -> Any:
    return value


def one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    return read


def whole_number(low: int, high: int | None = None, unit: str = "") -> Callable[[Any], int]:
    def read(value: Any) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"must be a whole number{unit}, got {value!r}") from None
        if number < low or (high is not None and number > high):
            raise ValueError(f"must be between {low} and {high}, got {number}" if high is not None
                             else f"must be at least {low}, got {number}")
        return number

    return read


def origin(value: Any) -> Any:
    # Signature URLs are built as PUBLIC_BASE_URL + path: a trailing slash would double it.
    return (value.rstrip("/") or None) if isinstance(value, str) else value


def host_list(value: Any) -> tuple[str, ...]:
    """A comma-separated list of host names (or a list/tuple passed to create_app)."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    hosts = tuple(item.strip().lower() for item in items if isinstance(item, str) and item.strip())
    for host in hosts:
        if "/" in host or ":" in host or " " in host:
            raise ValueError(f"must be host names like push.example.com or *.push.example.com, got {host!r}")
    return hosts


def database_url(value: Any) -> Any:
    # Heroku-style URLs and bare postgresql:// should use psycopg 3.
    if not isinstance(value, str):
        return value
    if value.startswith("postgres://"):
        value = "postgresql://" + value[len("postgres://") :]
    if value.startswith("postgresql://"):
        value = "postgresql+psycopg://" + value[len("postgresql://") :]
    return value


# Defaults that depend on where the instance folder is, or on settings read before them.
Default = Callable[[dict, str], Any]


def under_instance(name: str) -> Default:
    return lambda _cfg, instance_path: str(Path(instance_path) / name)


def instance_sqlite(_cfg: dict, instance_path: str) -> str:
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(instance_path) / 'pawline.sqlite3'}"


def json_in_production(cfg: dict, _instance_path: str) -> str:
    return "json" if cfg["APP_ENV"] == "production" else "text"


def twilio_when_configured(cfg: dict, _instance_path: str) -> str:
    return "twilio" if cfg["TWILIO_ACCOUNT_SID"] and cfg["TWILIO_AUTH_TOKEN"] else "outbox"


@dataclass(frozen=True)
class Setting:
    """One setting the environment may give: read into app.config[key]."""

    key: str
    read: Callable[[Any], Any] = as_is
    default: Any = None  # a value, or a Default computed when the setting is unset
    required_in_production: bool = False  # production refuses to start without it
    hint: str = ""  # what to set, added to the message when it is missing
    env: str | None = None  # the variable's name when it is not the config key

    @property
    def variable(self) -> str:
        return self.env or self.key


# Rows are resolved in order: a default may look at the rows above it.
SETTINGS: tuple[Setting, ...] = (
    Setting("APP_ENV", one_of(ENVIRONMENTS), "development"),
    Setting("SECRET_KEY", default="dev-only-not-secret", required_in_production=True, hint="a long random string"),
    Setting("SQLALCHEMY_DATABASE_URI", database_url, instance_sqlite, env="DATABASE_URL"),
    Setting("REDIS_URL"),  # unset: the embedded in-process queue
    Setting("STRIPE_SECRET_KEY"),
    Setting("STRIPE_WEBHOOK_SECRET"),
    Setting("TWILIO_ACCOUNT_SID"),
    Setting("TWILIO_AUTH_TOKEN"),
    # During a token rotation only: the token Twilio still signs webhooks with until the new
    # one is promoted (docs/operations.md). Webhooks only; API calls use TWILIO_AUTH_TOKEN.
    Setting("TWILIO_AUTH_TOKEN_PREVIOUS"),
    Setting("SMS_PROVIDER", one_of(SMS_PROVIDERS), twilio_when_configured),
    Setting("PUBLIC_BASE_URL", origin),
    # Operations (docs/operations.md, "Logs, metrics and error reports"). /metrics answers only
    # the bearer of METRICS_TOKEN (unset: 404 for everyone). PROMETHEUS_MULTIPROC_DIR must be in
    # the environment of every process before it starts (gunicorn, each worker.py): the
    # metrics module reads it at import; the setting tells /metrics where to add them up.
    Setting("METRICS_TOKEN"),
    Setting("PROMETHEUS_MULTIPROC_DIR"),
    Setting("SENTRY_DSN"),
    Setting("SENTRY_RELEASE"),
    # One JSON object per line (with request and job ids) in production, readable text elsewhere.
    Setting("LOG_FORMAT", one_of(LOG_FORMATS), json_in_production),
    # Web Push (VAPID, RFC 8292): `flask --app app vapid-keys` prints a pair. Production takes them
    # from here only (unset: no push button; notifications fall back to the SMS ping or the open
    # page); development with none set makes its own pair once in instance/ (embedded_push_keys).
    Setting("VAPID_PUBLIC_KEY"),
    Setting("VAPID_PRIVATE_KEY"),
    Setting("VAPID_SUBJECT"),
    # More push services to allow, beside FCM, Mozilla, Apple and Windows (app.adapters.webpush):
    # comma-separated host names, "*.example.com" for any subdomain.
    Setting("PUSH_SERVICE_HOSTS", host_list, ()),
    # How many reverse proxies (TLS terminators, load balancers) stand in front of the
    # app and set X-Forwarded-For/-Proto/-Host/-Port. 0: none, the headers are ignored.
    Setting("PROXY_COUNT", whole_number(0, 5, " of proxies"), 0),
    # Reset codes texted (paid) for one login email in 24 hours, whoever asks (/forgot).
    Setting("RESET_CODES_PER_DAY", whole_number(1, 20, " of codes"), 3),
    # Content-hashed, compressed copies of app/static served by WhiteNoise.
    Setting("STATIC_BUILD_DIR", default=under_instance("static-build")),
    # Photo uploads (sitter compose, owner replies) may be larger: up to ten phone photos
    # before they are resized. Applied per request by the upload views only.
    Setting("MEDIA_UPLOAD_MAX_BYTES", whole_number(1, unit=" of bytes"), 60 * 1024 * 1024),
    # Media store: files under instance/media by default, S3-compatible storage in production.
    Setting("MEDIA_STORAGE", one_of(MEDIA_STORAGES), "filesystem"),
    Setting("MEDIA_ROOT", default=under_instance("media")),
    Setting("MEDIA_S3_BUCKET"),
    Setting("MEDIA_S3_ENDPOINT_URL"),
    Setting("MEDIA_S3_REGION"),
    Setting("MEDIA_S3_ACCESS_KEY_ID"),
    Setting("MEDIA_S3_SECRET_ACCESS_KEY"),
)


def fixed_settings(app_env: str) -> dict:
    """Settings the environment does not give (a key passed to create_app still wins)."""
    cfg: dict = {
        "APP_NAME": APP_NAME,
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
        # Short: a push service that does not answer must not hold a worker (connect and read).
        "PUSH_TIMEOUT_SECONDS": 5,
        # Push endpoints are URLs a browser hands us: only public https ones are called,
        # so a subscription cannot make the server post to its own network. Tests that run
        # a push-service stand-in on loopback switch this on.
        "PUSH_ALLOW_LOOPBACK": False,
        # Inbound media are fetched from this origin only (no server-side request forgery).
        "TWILIO_MEDIA_ORIGIN": "https://api.twilio.com",
        # Hosts a media redirect may go to beside Twilio's own (app.adapters.twilio_media).
        "TWILIO_MEDIA_HOSTS": (),
        # How long the signed URL handed to Twilio for an outbound photo stays valid.
        "MEDIA_URL_TTL_SECONDS": 3600,
    }
    if app_env == "production":
        cfg["SESSION_COOKIE_SECURE"] = True
        cfg["REMEMBER_COOKIE_SECURE"] = True
    return cfg


def _twilio_without_credentials(cfg: dict) -> bool:
    return cfg["SMS_PROVIDER"] == "twilio" and not (cfg["TWILIO_ACCOUNT_SID"] and cfg["TWILIO_AUTH_TOKEN"])


# Settings that only make sense together: (refuses to start when, the message naming them).
CROSS_CHECKS: tuple[tuple[Callable[[dict], bool], str], ...] = (
    (_twilio_without_credentials, "SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
    (lambda cfg: cfg["MEDIA_STORAGE"] == "s3" and not cfg["MEDIA_S3_BUCKET"],
     "MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET (and MEDIA_S3_ENDPOINT_URL for non-AWS storage)"),
    (lambda cfg: bool(cfg["VAPID_PUBLIC_KEY"]) != bool(cfg["VAPID_PRIVATE_KEY"]),
     "VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together (flask vapid-keys)"),
    (lambda cfg: bool(cfg["VAPID_PRIVATE_KEY"]) and not cfg["VAPID_SUBJECT"],
     "VAPID_SUBJECT must be set with the VAPID keys (mailto:you@example.com or an https URL)"),
    (lambda cfg: cfg["APP_ENV"] == "production" and cfg["SMS_PROVIDER"] == "twilio" and not cfg["PUBLIC_BASE_URL"],
     "PUBLIC_BASE_URL must be set in production to validate Twilio signatures"),
)


def read_settings(environ: Mapping[str, str], overrides: dict, instance_path: str) -> dict:
    """Every row of SETTINGS, from overrides first, then the environment, then its default."""
    cfg: dict = {}
    for setting in SETTINGS:
        value = overrides[setting.key] if setting.key in overrides else environ.get(setting.variable)
        if value is not None and value != "":
            try:
                value = setting.read(value)
            except ValueError as exc:
                raise ConfigError(f"{setting.variable} {exc}") from None
        if value is None or value == "":
            if setting.required_in_production and cfg.get("APP_ENV") == "production":
                raise ConfigError(f"{setting.variable} must be set in production ({setting.hint})")
            value = setting.default(cfg, instance_path) if callable(setting.default) else setting.default
        cfg[setting.key] = value
    return cfg


def embedded_push_keys(cfg: dict, instance_path: str) -> dict:
    """The embedded default (development, no keys set) keeps its own VAPID pair in instance/, so
    push works from the first start; production and tests use only the keys they are given."""
    if cfg["APP_ENV"] != "development" or cfg["VAPID_PUBLIC_KEY"] or cfg["VAPID_PRIVATE_KEY"]:
        return {}
    public, private = instance_vapid_keys(instance_path)
    return {"VAPID_PUBLIC_KEY": public, "VAPID_PRIVATE_KEY": private,
            "VAPID_SUBJECT": cfg["VAPID_SUBJECT"] or EMBEDDED_SUBJECT}


def build_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Return the Flask config mapping: environment first, then explicit overrides."""
    overrides = dict(overrides or {})
    settings = read_settings(os.environ, overrides, instance_path)
    settings.update(embedded_push_keys(settings, instance_path))
    cfg = {**fixed_settings(settings["APP_ENV"]), **overrides, **settings}
    # Bound values (clients' numbers, message bodies) stay out of exception messages and logs.
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {**cfg["SQLALCHEMY_ENGINE_OPTIONS"], "hide_parameters": True}
    for refuses, message in CROSS_CHECKS:
        if refuses(cfg):
            raise ConfigError(message)
    return cfg
