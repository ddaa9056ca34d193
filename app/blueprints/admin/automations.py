"""Automations: templates per kind, the schedule, failed runs."""

from __future__ import annotations

from flask import render_template

from app.blueprints.admin import bp
from app.blueprints.admin.common import org, owner_or_staff
from app.blueprints.admin.forms import ConfirmForm
from app.services.admin_queries import automation_overview


@bp.route("/automations")
@owner_or_staff
def automations():
    return render_template("admin/automations.html", confirm=ConfirmForm(), retry_enabled=False,
                           **automation_overview(org().id))
