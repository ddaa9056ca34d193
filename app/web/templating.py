"""Template filters and the HTMX helpers every blueprint shares (over flask-htmx's `htmx` object)."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, render_template

from app.extensions import htmx
from app.localtime import format_datetime, format_time
from app.privacy import mask_phone

# What an answer chosen by `wants_fragment` depends on: a cache must key on both, or it could hand
# a fragment to a plain visit, or to the history restore that needs the whole page.
_HTMX_VARY = ("HX-Request", "HX-History-Restore-Request")


def wants_fragment() -> bool:
    """True when htmx asks for a piece of the page; a history restore (htmx missed its own cache
    after Back) gets the whole page, as a plain visit does.

    Asking is what makes a URL answer two ways, so the answer is marked `Vary: HX-Request` here,
    for every view that asks (see `_vary_where_htmx_was_asked`).
    """
    g.asked_for_htmx = True
    return bool(htmx) and not htmx.history_restore_request


def render_page_or_partial(page: str, partial: str, **context) -> Response:
    """One URL, two answers: the full page for browsers, the fragment for htmx."""
    template = partial if wants_fragment() else page
    return current_app.make_response(render_template(template, **context))


def _vary_where_htmx_was_asked(response: Response) -> Response:
    if g.get("asked_for_htmx"):
        for header in _HTMX_VARY:
            response.vary.add(header)
    return response


def register_template_helpers(app: Flask) -> None:
    from app.services.people.labels import readable_phone  # services import this module: bind at app build time

    app.jinja_env.filters["org_time"] = format_time
    app.jinja_env.filters["org_datetime"] = format_datetime
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["national_phone"] = readable_phone

    app.after_request(_vary_where_htmx_was_asked)

    @app.context_processor
    def _globals() -> dict:
        # flask-htmx's own context processor gives templates `htmx` (`{% if htmx %}`).
        return {"app_name": app.config["APP_NAME"]}
