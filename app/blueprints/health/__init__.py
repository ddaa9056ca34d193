"""/healthz for load balancers and operators."""

from flask import Blueprint

bp = Blueprint("health", __name__)

from app.blueprints.health import metrics, routes  # noqa: E402,F401
