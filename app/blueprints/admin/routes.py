"""The admin home: today at a glance, and owner alerts to resolve."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, url_for
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.admin.common import org, owner_only, owner_or_staff
from app.blueprints.admin.forms import ConfirmForm
from app.models import Alert
from app.services.messaging.inbound import ROUTING_REASON_LABELS
from app.services.messaging.owner_inbox import resolve_alert
from app.services.messaging.simulation import simulation_allowed
from app.services.queries.admin import home_summary
from app.web.scoping import get_in_org_or_404
from app.web.templating import render_page_or_partial


@bp.context_processor
def _admin_template_helpers() -> dict:
    return {"routing_reason_label": lambda reason: ROUTING_REASON_LABELS.get(reason, ""),
            "simulation_enabled": simulation_allowed(current_app.config)}


@bp.route("")
@owner_or_staff
def home():
    summary = home_summary(org().id, org().timezone)
    return render_page_or_partial("admin/home.html", "admin/partials/home_summary.html", form=ConfirmForm(),
                                  **summary)


@bp.route("/alerts/<int:alert_id>/resolve", methods=["POST"])
@owner_only
def alert_resolve(alert_id: int):
    alert = get_in_org_or_404(Alert, alert_id)
    if alert.audience != "owner":
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        resolve_alert(alert.id, current_user.id)
        flash("Alert resolved.", "info")
    return redirect(url_for("admin.home"))
