"""Owner and staff pages, one module per page."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.blueprints.admin import (  # noqa: E402,F401 - routes attach to bp
    audit,
    automations,
    bookings,
    calendar,
    inbox,
    numbers,
    payments,
    people,
    queue_health,
    routes,
    settings,
    simulate,
    users,
    visits,
)
