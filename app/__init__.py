"""Pawline: the app factory, read top to bottom as a table of contents."""

from __future__ import annotations

import logging

from flask import Flask

from app.config import build_config
from app.web.lean_requests import PawlineFlask


def create_app(config: dict | None = None) -> Flask:
    app = PawlineFlask(__name__, instance_relative_config=True)
    app.config.update(build_config(app.instance_path, config))
    configure_logging(app)
    start_error_reports(app)
    register_request_ids(app)
    register_security_headers(app)
    register_extensions(app)
    register_org_scoping(app)
    register_input_guards(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_commands(app)
    start_embedded_scheduler(app)
    serve_static_files(app)
    register_lean_requests(app)  # after every hook is registered: it lists those webhooks keep
    trust_proxies(app)
    return app


def configure_logging(app: Flask) -> None:
    from app.observability.logs import formatter_for, install_log_context
    from app.privacy import install_log_masking

    level = logging.DEBUG if app.debug else logging.INFO
    root = logging.getLogger()
    if not root.handlers:  # gunicorn's config, a test or an operator may have set one up already
        handler = logging.StreamHandler()
        handler.setFormatter(formatter_for(app.config["LOG_FORMAT"]))  # JSON lines in production
        root.addHandler(handler)
        root.setLevel(level)
    # Alembic announces every autogenerate plugin at INFO on each CLI start.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    install_log_masking()
    install_log_context()  # request_id and job_id on every record


def start_error_reports(app: Flask) -> None:
    from app.observability.error_reports import init_error_reports

    init_error_reports(app.config)  # Sentry, when SENTRY_DSN is set


def register_request_ids(app: Flask) -> None:
    from app.web.request_ids import install_request_ids

    install_request_ids(app)  # the first before_request hook


def register_security_headers(app: Flask) -> None:
    from app.web.headers import install_security_headers

    install_security_headers(app)


def register_lean_requests(app: Flask) -> None:
    from app.web.lean_requests import install_lean_requests

    install_lean_requests(app)  # signed webhooks skip login, scoping, CSRF, limiter, CSP work


def serve_static_files(app: Flask) -> None:
    from app.web.static_files import serve_static_files as serve

    serve(app)


def trust_proxies(app: Flask) -> None:
    """Behind PROXY_COUNT proxies, take the client's address, scheme and host from their headers.

    Outermost, so every layer (static files, Flask, Twilio signature URLs, HSTS) sees the
    scheme and host the client used.
    """
    count = app.config["PROXY_COUNT"]
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count)


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401 - register every table with the metadata
    from app.extensions import csrf, db, htmx, login_manager, migrate
    from app.jobs.queue import init_queue
    from app.services.accounts.throttle import init_login_limiter

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    init_queue(app)
    init_login_limiter(app)
    with app.app_context():
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            from app.persistence.sqlite import configure_sqlite

            configure_sqlite(db.engine)
        else:  # a file database cannot drop its connection; a server can
            from app.persistence.db_pool import ping_idle_connections

            ping_idle_connections(db.engine)


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"


def register_org_scoping(app: Flask) -> None:
    from app.web.scoping import install_org_scoping

    install_org_scoping(app)


def register_input_guards(app: Flask) -> None:
    from app.web.input_guard import install_input_guards

    install_input_guards(app)  # before the blueprints: their <int:> rules use its converter


def register_blueprints(app: Flask) -> None:
    from app.blueprints.admin import bp as admin_bp
    from app.blueprints.auth import bp as auth_bp
    from app.blueprints.health import bp as health_bp
    from app.blueprints.media import bp as media_bp
    from app.blueprints.pwa import bp as pwa_bp
    from app.blueprints.sitter import bp as sitter_bp
    from app.blueprints.webhooks import bp as webhooks_bp
    from app.extensions import csrf

    app.register_blueprint(auth_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(pwa_bp)
    app.register_blueprint(sitter_bp, url_prefix="/sitter")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    # Signed by Stripe and Twilio instead of a session token.
    csrf.exempt(webhooks_bp)
    app.register_blueprint(webhooks_bp, url_prefix="/webhooks")
    from app.blueprints.admin.rq import register_rq_dashboard

    register_rq_dashboard(app)


def register_error_handlers(app: Flask) -> None:
    from app.errors import register_error_handlers as register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from app.web.templating import register_template_helpers as register

    register(app)


def register_commands(app: Flask) -> None:
    from app.cli import register_commands as register

    register(app)


def start_embedded_scheduler(app: Flask) -> None:
    from app.jobs.queue import get_queue

    if app.config["EMBEDDED_SCHEDULER"] and not app.config["REDIS_URL"]:
        from app.jobs.worker import MINUTELY_TASK_SECONDS, embedded_schedule

        # Like a worker: reconcile automations soon after start (the heap died with the last
        # process), run the periodic tasks every few minutes and the minutely ones each minute.
        with app.app_context():
            get_queue().start_scheduler_thread(
                periodic=embedded_schedule(app),
                periodic_seconds=app.config.get("MINUTELY_TASK_SECONDS", MINUTELY_TASK_SECONDS))
