"""The sitter's phone dashboard."""

from flask import Blueprint

bp = Blueprint("sitter", __name__)

from app.blueprints.sitter import routes  # noqa: E402,F401
