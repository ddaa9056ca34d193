"""The schedule: a day or week calendar by sitter, unassigned and pending visits flagged."""

from __future__ import annotations

from datetime import date

from flask import abort, request

from app.blueprints.admin import bp
from app.blueprints.admin.common import org, owner_or_staff
from app.services.queries.schedule import calendar as build_calendar
from app.web.templating import render_page_or_partial


def _day_arg() -> date | None:
    raw = request.args.get("date", "")
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(400, "Use a date like 2026-11-26.")
    if not 2000 <= day.year <= 2100:
        abort(400, "That date is out of range.")
    return day


@bp.route("/calendar")
@owner_or_staff
def calendar():
    view = "week" if request.args.get("view") == "week" else "day"
    cal = build_calendar(org(), view, _day_arg())
    return render_page_or_partial("admin/calendar.html", "admin/partials/calendar_body.html", cal=cal)
