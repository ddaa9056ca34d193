"""Owner and staff pages."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.blueprints.admin import payments, routes  # noqa: E402,F401
