"""Owner and staff pages, one module per page."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.blueprints.admin import (  # noqa: E402,F401 - routes attach to bp
    audit,
    automations,
    bookings,
    calendar,
    calls,
    client_data,
    inbox,
    inbox_office,
    numbers,
    office_notes,
    payments,
    people,
    pet_profiles,
    queue_health,
    routes,
    series,
    settings,
    simulate,
    time_off,
    users,
    visits,
)
