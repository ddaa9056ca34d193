"""Domain exceptions and the one place that maps them to HTTP answers."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request


class DomainError(Exception):
    """A rule of the business said no; the message is safe to show the user."""

    status_code = 400


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class InvalidInput(DomainError):
    status_code = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _wants_json() -> bool:
    return request.path.startswith("/webhooks") or request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        if _wants_json():
            return jsonify(error=str(exc)), exc.status_code
        return render_template("errors/error.html", code=exc.status_code, message=str(exc)), exc.status_code

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        message = "This page expired before you sent it. Reload the page and try again."
        if _wants_json():
            return jsonify(error=message), 400
        return render_template("errors/error.html", code=400, message=message), 400

    from sqlalchemy.exc import OperationalError, ProgrammingError

    @app.errorhandler(OperationalError)
    @app.errorhandler(ProgrammingError)
    def _schema_missing(exc):
        if not schema_is_missing(exc):
            raise exc  # every other database error is a logged 500, as before
        app.logger.error("the database has no schema: run `flask --app app db upgrade` (%s)", type(exc.orig).__name__)
        message = ("This server's database is not set up yet. Whoever runs it must run "
                   "`flask --app app db upgrade` (scripts/run does), then try again.")
        if _wants_json():
            return jsonify(error=message), 503
        return render_template("errors/error.html", code=503, message=message), 503

    for code, message in (
        (400, "That request could not be understood."),
        (403, "You are not allowed to do that."),
        (404, "We could not find that page."),
        (405, "That action is not allowed here."),
        (413, "That request is too large. Attach fewer or smaller photos; go back and your text is still there."),
        (500, "Something went wrong on our side. It has been logged."),
    ):
        app.register_error_handler(code, _http_error_handler(code, message))


def _http_error_handler(code: int, message: str):
    def handler(exc):
        description = getattr(exc, "description", None) if code == 400 else None
        text = description if isinstance(description, str) and description else message
        if _wants_json():
            return jsonify(error=text), code
        return render_template("errors/error.html", code=code, message=text), code

    return handler


def schema_is_missing(exc) -> bool:
    """A table the code needs does not exist: the server was started on a database that was never
    migrated (SQLite says "no such table", PostgreSQL answers SQLSTATE 42P01)."""
    orig = getattr(exc, "orig", None)
    return "no such table" in str(orig) or getattr(orig, "sqlstate", None) == "42P01"
