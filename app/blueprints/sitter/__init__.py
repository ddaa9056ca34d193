"""The sitter's phone dashboard."""

from flask import Blueprint

bp = Blueprint("sitter", __name__)

from app.blueprints.sitter import calls, office, offline, routes, visit_info, visits  # noqa: E402,F401 - routes attach to bp
