"""Logging in and out; sends each role to its home."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.blueprints.auth import routes  # noqa: E402,F401 - routes attach to bp
