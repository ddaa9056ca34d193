"""A sitter's time off, on the sitter's admin page: owners and staff add and remove days away."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.admin.common import actor, org, owner_or_staff, run_form
from app.blueprints.admin.forms import ConfirmForm, SitterForm, SitterLoginForm, TimeOffForm
from app.blueprints.admin.people import sitter_page
from app.errors import NotFound
from app.models import Sitter
from app.services.people import time_off
from app.web.scoping import get_in_org_or_404


@bp.route("/sitters/<int:sitter_id>/time-off", methods=["POST"])
@owner_or_staff
def time_off_add(sitter_id: int):
    sitter = get_in_org_or_404(Sitter, sitter_id)
    form = TimeOffForm()
    outcome = run_form(form, lambda: time_off.add_time_off(
        org().id, sitter.id, form.first_day.data, form.last_day.data, form.note.data or "",
        user_id=current_user.id, actor=actor()))
    if outcome.ok:
        row = outcome.result
        days = time_off.format_days([row.first_day]) if row.first_day == row.last_day else \
            f"{time_off.format_days([row.first_day])} to {time_off.format_days([row.last_day])}"
        flash(f"Time off saved: {sitter.name} is away {days}; the calendar shows it.", "info")
        return redirect(url_for("admin.sitter_detail", sitter_id=sitter.id) + "#time-off")
    edit = SitterForm(obj=sitter)
    edit.phone.data = sitter.phone_e164
    return sitter_page(sitter, form=edit, login_form=SitterLoginForm(formdata=None), time_off_form=form), 422


@bp.route("/sitters/<int:sitter_id>/time-off/<int:time_off_id>/remove", methods=["POST"])
@owner_or_staff
def time_off_remove(sitter_id: int, time_off_id: int):
    sitter = get_in_org_or_404(Sitter, sitter_id)
    back = url_for("admin.sitter_detail", sitter_id=sitter.id) + "#time-off"
    if not ConfirmForm().validate_on_submit():
        return redirect(back)
    try:
        time_off.remove_time_off(org().id, sitter.id, time_off_id, actor=actor())
    except NotFound:
        abort(404)
    flash(f"Time off removed: {sitter.name} can be booked on those days without a warning.", "info")
    return redirect(back)
