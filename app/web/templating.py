"""Template filters and the HTMX helpers every blueprint shares."""

from __future__ import annotations

from flask import Flask, Response, current_app, render_template, request

from app.localtime import format_datetime, format_time
from app.privacy import mask_phone


def is_htmx_request() -> bool:
    """True when htmx made this request (and it is not a history restore)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get(
        "HX-History-Restore-Request"
    ) != "true"


def render_page_or_partial(page: str, partial: str, **context) -> Response:
    """One URL, two answers: the full page for browsers, the fragment for htmx."""
    template = partial if is_htmx_request() else page
    response = current_app.make_response(render_template(template, **context))
    response.vary.add("HX-Request")
    return response


def register_template_helpers(app: Flask) -> None:
    from app.services.people.labels import readable_phone  # services import this module: bind at app build time

    app.jinja_env.filters["org_time"] = format_time
    app.jinja_env.filters["org_datetime"] = format_datetime
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["national_phone"] = readable_phone

    @app.context_processor
    def _globals() -> dict:
        return {"app_name": app.config["APP_NAME"], "is_htmx": is_htmx_request}
